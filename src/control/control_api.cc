#include "control/control_api.h"

#include <cctype>
#include <charconv>
#include <random>
#include <variant>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "control/artifact_api.h"
#include "control/openfaas_api.h"
#include "control/token_api.h"
#include "core/json_text.h"
#include "core/rfc3339.h"
#include "core/signing.h"
#include "gateway/payload_decoder.h"
#include "http/http_client.h"

namespace sie::node {
namespace {

constexpr std::size_t kMaxLogLines = FunctionLogs::kLinesPerFunction;

std::string dumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The field an error is about, from its message: "spec.scaling.max must be ..." or
// "unknown key 'foo' ...".
// Plain scans, not std::regex: its matcher recurses per character, and a message quotes what the
// caller sent (a 200,000-character key overflowed the stack).
std::string offendingField(const Error& error) {
  // An error about a request header names the header as its place.
  if (error.where.starts_with("X-Sie-")) return error.where;
  const std::string_view message = error.message;
  for (const std::string_view lead : {"unknown key '", "key '"}) {
    if (!message.starts_with(lead)) continue;
    const std::size_t end = message.find('\'', lead.size());
    if (end != std::string_view::npos && end > lead.size()) {
      return std::string(message.substr(lead.size(), end - lead.size()));
    }
  }
  const auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  const auto segment = [&](char c) { return word(c) || c == '[' || c == ']'; };
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (i > 0 && word(message[i - 1])) continue;
    std::size_t end = i;
    for (const std::string_view root : {"metadata", "spec"}) {
      if (message.substr(i).starts_with(root)) end = i + root.size();
    }
    if (end == i || (end < message.size() && word(message[end]))) continue;
    // Then ".segment" as long as they follow.
    while (end + 1 < message.size() && message[end] == '.' && segment(message[end + 1])) {
      ++end;
      while (end < message.size() && segment(message[end])) ++end;
    }
    return std::string(message.substr(i, end - i));
  }
  return {};
}

// The first 'quoted_word' in a decoder's message (the key it is about), or "".
std::string quotedKey(std::string_view message) {
  for (std::size_t open = message.find('\''); open != std::string_view::npos;
       open = message.find('\'', open + 1)) {
    std::size_t end = open + 1;
    while (end < message.size() &&
           (std::isalpha(static_cast<unsigned char>(message[end])) || message[end] == '_')) {
      ++end;
    }
    if (end > open + 1 && end < message.size() && message[end] == '\'') {
      return std::string(message.substr(open + 1, end - open - 1));
    }
  }
  return {};
}

nlohmann::json decisionJson(const std::optional<Decision>& d) {
  if (!d) return nullptr;
  return {{"score", d->score}, {"anomaly", d->anomaly}, {"label", d->label}, {"detail", d->detail}};
}

// Microseconds: what the API has always written.
std::string rfc3339(std::int64_t ts_ns) { return formatRfc3339(ts_ns, 6); }

bool flag(const HttpRequest& request, const std::string& name) {
  auto it = request.query.find(name);
  return it != request.query.end() && it->second != "false" && it->second != "0";
}

std::optional<std::size_t> number(const HttpRequest& request, const std::string& name) {
  auto it = request.query.find(name);
  if (it == request.query.end()) return std::nullopt;
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  if (ec != std::errc() || end != it->second.data() + it->second.size()) return std::nullopt;
  return value;
}

// A rollout policy from JSON fields or query parameters (strategy, weight, maxErrorRate,
// maxLatencyMs, minInvocations) over `base`; an error answer names the field.
std::variant<RolloutPolicy, HttpResponse> policyFrom(const nlohmann::json& fields,
                                                     RolloutPolicy base) {
  const auto not_a_number = [](const std::string& key) {
    return apiError(400, "invalid", fmt::format("'{}' must be a number", key), key);
  };
  for (const auto& [key, value] : fields.items()) {
    try {
      if (key == "strategy") {
        auto strategy = parseStrategy(value.is_string() ? value.get<std::string>() : value.dump());
        if (!strategy) return apiError(400, "invalid", strategy.error().message, "strategy");
        base.strategy = *strategy;
        // A shadow or a standby takes no canary share unless one is asked for.
        if (base.strategy != RolloutPolicy::Strategy::kCanary && !fields.contains("weight")) {
          base.weight = 0;
        }
      } else if (key == "weight") {
        const auto weight = jsonNumber<int>(value);
        if (!weight) return not_a_number(key);
        base.weight = *weight;
      } else if (key == "maxErrorRate") {
        base.max_error_rate = value.get<double>();
      } else if (key == "maxLatencyMs") {
        base.max_p99_ms = value.get<double>();
      } else if (key == "minInvocations") {
        const auto invocations = jsonNumber<std::uint64_t>(value);
        if (!invocations) return not_a_number(key);
        base.min_invocations = *invocations;
      } else {
        return apiError(400, "invalid",
                        fmt::format("unknown field '{}' (known: strategy, weight, maxErrorRate, "
                                    "maxLatencyMs, minInvocations)",
                                    key),
                        key);
      }
    } catch (const nlohmann::json::exception&) {
      return not_a_number(key);
    }
  }
  if (auto checked = validate(base); !checked) {
    return apiError(400, "invalid", checked.error().message, checked.error().where);
  }
  return base;
}

// Query parameters as JSON values (numbers where they parse), for policyFrom().
nlohmann::json queryFields(const HttpRequest& request, std::initializer_list<const char*> keys) {
  nlohmann::json out = nlohmann::json::object();
  for (const char* key : keys) {
    auto it = request.query.find(key);
    if (it == request.query.end()) continue;
    auto number = parseJsonOrDiscarded(it->second);
    out[key] = number.is_number() ? number : nlohmann::json(it->second);
  }
  return out;
}

// A deploy from the request's body and headers: If-Match, X-Sie-Signature, X-Sie-Artifacts,
// X-Sie-Bundle with X-Sie-Bundle-Signature, X-Sie-Rollback.
std::variant<DeployRequest, HttpResponse> deployRequest(const HttpRequest& r) {
  DeployRequest request{.text = r.body,
                        .actor = actorOf(r),
                        .expect_version = std::string(r.header("if-match")),
                        .signature = std::string(r.header("x-sie-signature"))};
  auto refs = parseArtifactRefs(r.header("x-sie-artifacts"));
  if (!refs) return apiError(400, "invalid", refs.error().message, "X-Sie-Artifacts");
  request.artifacts = std::move(*refs);
  auto bundle = bundleFromHeaders(r.header("x-sie-bundle"), r.header("x-sie-bundle-signature"));
  if (!bundle) return apiError(400, "invalid", bundle.error().message, bundle.error().where);
  request.bundle = std::move(*bundle);
  const std::string_view rollback = r.header("x-sie-rollback");
  if (!rollback.empty() && rollback != "true" && rollback != "false") {
    return apiError(400, "invalid", "X-Sie-Rollback is true or false", "X-Sie-Rollback");
  }
  request.rollback = rollback == "true";
  return request;
}

nlohmann::json statsJson(const VersionStats::Snapshot& s) {
  return {{"invocations", s.invocations},
          {"errors", s.errors},
          {"errorRate", s.errorRate()},
          {"p50Ms", s.p50_ms},
          {"p99Ms", s.p99_ms}};
}

}  // namespace

HttpResponse json(int status, const nlohmann::json& body) {
  return {status, "application/json", dumpJson(body), {}};
}

std::string actorOf(const HttpRequest& request) {
  return request.caller.empty() ? "api" : request.caller;
}

HttpResponse apiError(int status, std::string_view code, const std::string& message,
                      const std::string& field, const std::string& where) {
  nlohmann::json body{{"error", code}, {"message", message}};
  if (!field.empty()) body["field"] = field;
  if (!where.empty()) body["where"] = where;
  return json(status, body);
}

std::optional<HttpResponse> outsideScope(const HttpRequest& request, std::string_view function) {
  if (!request.scope) return std::nullopt;
  auto refused = request.scope->refusal(http::ResourceKind::kFunction, function);
  if (!refused) return std::nullopt;
  return apiError(403, "forbidden", *refused);
}

ControlApi::ControlApi(ControlPlane& plane, StateStore& state, const Clock& clock,
                       std::function<bool()> running, security::TokenStore* tokens,
                       CallbackPolicy callbacks)
    : plane_(plane),
      state_(state),
      clock_(clock),
      running_(std::move(running)),
      async_(2, AsyncCalls::kQueueCapacity, std::move(callbacks)),
      run_token_(fmt::format("{:08x}", std::random_device{}())) {
  addRoutes();
  addArtifactRoutes(routes_, plane_);
  addOpenFaasRoutes(routes_, *this);
  if (tokens != nullptr) addTokenRoutes(routes_, *tokens, plane_);
}

ControlApi::~ControlApi() { stop(); }

std::optional<HttpResponse> ControlApi::handle(const HttpRequest& request) const {
  return routes_.dispatch(request);
}

void ControlApi::addRoutes() {
  routes_.add("GET", "/api/v1/functions",
              [this](const HttpRequest&, const http::PathParams&) { return list(); });
  routes_.add("POST", "/api/v1/functions", [this](const HttpRequest& r, const http::PathParams&) {
    // ?strategy=canary|shadow|blue-green (and weight, objectives) deploys a rollout candidate.
    const auto fields =
        queryFields(r, {"strategy", "weight", "maxErrorRate", "maxLatencyMs", "minInvocations"});
    auto request = deployRequest(r);
    if (auto* answer = std::get_if<HttpResponse>(&request)) return *answer;
    auto& deploying = std::get<DeployRequest>(request);
    if (r.scope) {
      // The caller may deploy some functions only: the manifest names which (a manifest that
      // does not parse is refused by the deploy itself).
      if (auto specs = parseManifests(SourceText{"request", deploying.text}, plane_.schemas())) {
        for (const FunctionSpec& spec : *specs) {
          if (auto refused = outsideScope(r, spec.name)) return std::move(*refused);
        }
      }
    }
    if (!fields.empty()) {
      auto policy = policyFrom(fields, RolloutPolicy{});
      if (auto* answer = std::get_if<HttpResponse>(&policy)) return *answer;
      deploying.rollout = std::get<RolloutPolicy>(policy);
    }
    return deploy(std::move(deploying), "");
  });
  routes_.add(
      "GET", "/api/v1/functions/{name}",
      [this](const HttpRequest&, const http::PathParams& p) { return describe(p.at("name")); });
  routes_.add("PUT", "/api/v1/functions/{name}",
              [this](const HttpRequest& r, const http::PathParams& p) {
                auto request = deployRequest(r);
                if (auto* answer = std::get_if<HttpResponse>(&request)) return *answer;
                return deploy(std::move(std::get<DeployRequest>(request)), p.at("name"));
              });
  routes_.add("DELETE", "/api/v1/functions/{name}",
              [this](const HttpRequest& r, const http::PathParams& p) {
                return remove(p.at("name"), flag(r, "reset"), actorOf(r));
              });
  routes_.add(
      "GET", "/api/v1/functions/{name}/versions",
      [this](const HttpRequest&, const http::PathParams& p) {
        auto runner = plane_.table().find(p.at("name"));
        const auto versions = plane_.versions(p.at("name"));
        if (!runner && versions.empty()) {
          return apiError(404, "not_found",
                          fmt::format("no function named '{}' on this node", p.at("name")));
        }
        nlohmann::json out = nlohmann::json::array();
        for (const auto& v : versions) {
          out.push_back({{"version", v}, {"serving", runner && runner->spec().version == v}});
        }
        return json(200, {{"name", p.at("name")}, {"versions", out}});
      });
  routes_.add("POST", "/api/v1/functions/{name}/invoke",
              [this](const HttpRequest& r, const http::PathParams& p) {
                std::string callback(r.header("x-callback-url"));
                if (auto it = r.query.find("callback"); it != r.query.end()) callback = it->second;
                return invoke(p.at("name"), r, flag(r, "async"), callback);
              });
  routes_.add("POST", "/api/v1/functions/{name}/scale",
              [this](const HttpRequest& r, const http::PathParams& p) {
                auto patch = parseJsonOrDiscarded(r.body);
                if (patch.is_discarded() || !patch.is_object()) {
                  return apiError(
                      400, "invalid_json",
                      "the body must be a JSON object such as {\"min\": 1, \"max\": 4}");
                }
                return scale(p.at("name"), patch, actorOf(r));
              });
  routes_.add(
      "GET", "/api/v1/functions/{name}/logs",
      [this](const HttpRequest& r, const http::PathParams& p) { return logs(p.at("name"), r); });
  routes_.add("GET", "/api/v1/functions/{name}/rollout",
              [this](const HttpRequest&, const http::PathParams& p) {
                return rolloutStatus(p.at("name"));
              });
  routes_.add("POST", "/api/v1/functions/{name}/rollout",
              [this](const HttpRequest& r, const http::PathParams& p) {
                return rolloutChange(p.at("name"), r.body, actorOf(r));
              });
  routes_.add("POST", "/api/v1/functions/{name}/rollout/promote",
              [this](const HttpRequest& r, const http::PathParams& p) {
                auto version = plane_.promote(p.at("name"), actorOf(r));
                if (!version) return controlError(version.error());
                return json(200, {{"name", p.at("name")}, {"serving", *version}});
              });
  routes_.add("POST", "/api/v1/functions/{name}/rollout/abort",
              [this](const HttpRequest& r, const http::PathParams& p) {
                auto version = plane_.abortRollout(p.at("name"), actorOf(r));
                if (!version) return controlError(version.error());
                return json(200, {{"name", p.at("name")}, {"aborted", *version}});
              });
  routes_.add(
      "POST", "/api/v1/functions/{name}/rollout/switch",
      [this](const HttpRequest& r, const http::PathParams& p) {
        auto body = parseJsonOrDiscarded(r.body);
        if (!body.is_object() || !body.contains("version") || !body["version"].is_string()) {
          return apiError(400, "invalid", "the body must be {\"version\": VERSION}", "version");
        }
        auto report = plane_.switchTo(p.at("name"), body["version"], actorOf(r));
        if (!report) return controlError(report.error());
        return json(200, {{"name", report->name},
                          {"version", report->version},
                          {"previous", report->previous},
                          {"changed", report->changed}});
      });
  routes_.add("GET", "/api/v1/calls/{id}", [this](const HttpRequest&, const http::PathParams& p) {
    auto call = async_.find(p.at("id"));
    if (!call) {
      return apiError(404, "not_found",
                      fmt::format("no async call '{}' (the newest {} are kept)", p.at("id"),
                                  AsyncCalls::kKept));
    }
    return json(200, *call);
  });
  routes_.add("GET", "/api/v1/events",
              [this](const HttpRequest& r, const http::PathParams&) { return readings(r); });
  addKeyRoutes();
  routes_.add("GET", "/readyz",
              [this](const HttpRequest&, const http::PathParams&) { return ready(); });
}

HttpResponse controlError(const ControlError& e) {
  switch (e.code) {
    case ControlErrc::kInvalid:
      return apiError(400, "invalid", e.error.message, offendingField(e.error), e.error.where);
    case ControlErrc::kNotFound:
      return apiError(404, "not_found", e.error.message, offendingField(e.error), e.error.where);
    case ControlErrc::kConflict:
      return apiError(409, "conflict", e.error.message, "", e.error.where);
    case ControlErrc::kForbidden:
      return apiError(403, "untrusted", e.error.message, "", e.error.where);
    case ControlErrc::kUnavailable: {
      HttpResponse busy = apiError(503, "unavailable", e.error.message);
      busy.headers["Retry-After"] = "1";
      return busy;
    }
    case ControlErrc::kInternal:
      break;
  }
  return apiError(500, "internal", e.error.str());
}

nlohmann::json ControlApi::summary(const FunctionRunner& runner) const {
  const FunctionSpec& spec = runner.spec();
  const InstancePool& pool = runner.pool();
  return {{"name", spec.name},
          {"version", spec.version},
          {"runtime", spec.runtime},
          {"handler", spec.handler},
          {"triggers", spec.triggers},
          {"origin", plane_.origin(spec.name)},
          {"instances", {{"live", pool.live()}, {"idle", pool.idle()}}},
          {"scaling", scalingJson(pool.scaling())},
          {"decisions", runner.decisions()},
          {"anomalies", runner.anomalies()},
          {"errors", runner.errors()}};
}

HttpResponse ControlApi::list() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& runner : plane_.table().runners()) out.push_back(summary(*runner));
  return json(200, {{"functions", out}});
}

HttpResponse ControlApi::describe(const std::string& name) const {
  auto runner = plane_.table().find(name);
  if (!runner)
    return apiError(404, "not_found", fmt::format("no function named '{}' on this node", name));
  nlohmann::json out = summary(*runner);
  const FunctionSpec& spec = runner->spec();
  nlohmann::json versions = nlohmann::json::array();
  for (const auto& v : plane_.versions(name)) {
    versions.push_back({{"version", v}, {"serving", v == spec.version}});
  }
  out["versions"] = versions;
  out["timeoutMs"] = spec.timeout.count();
  out["retries"] = spec.retries;
  out["idempotent"] = spec.idempotent;
  out["source"] = spec.source_file;
  if (auto sha = plane_.manifestSha256(name, spec.version); !sha.empty()) {
    out["manifestSha256"] = sha;
  }
  out["artifact"] = runner->artifact();
  if (auto refs = plane_.artifactRefs(name, spec.version); !refs.empty()) out["uploaded"] = refs;
  return json(200, out);
}

HttpResponse ControlApi::deploy(DeployRequest request, const std::string& path_name) const {
  const std::string& manifest = request.text;
  if (manifest.empty()) {
    return apiError(400, "invalid", "the body is empty: send one Function manifest (YAML or JSON)");
  }
  if (!path_name.empty()) {
    // The name in the path and the manifest's must agree (PUT /api/v1/functions/{name}).
    auto specs = parseManifests(SourceText{"request", manifest}, plane_.schemas());
    if (specs && specs->size() == 1 && specs->front().name != path_name) {
      return apiError(400, "invalid",
                      fmt::format("metadata.name '{}' does not match the path's '{}'",
                                  specs->front().name, path_name),
                      "metadata.name");
    }
  }
  if (request.actor.empty()) request.actor = "api";
  auto report = plane_.deploy(request);
  if (!report) return controlError(report.error());
  return json(report->changed && report->previous.empty() ? 201 : 200,
              {{"name", report->name},
               {"version", report->version},
               {"previous", report->previous},
               {"changed", report->changed}});
}

HttpResponse ControlApi::remove(const std::string& name, bool reset,
                                const std::string& actor) const {
  auto removed = plane_.remove(name, reset, actor);
  if (!removed) return controlError(removed.error());
  return json(200, {{"deleted", name}, {"reset", reset}});
}

HttpResponse ControlApi::scale(const std::string& name, const nlohmann::json& patch,
                               const std::string& actor) const {
  auto runner = plane_.table().find(name);
  if (!runner)
    return apiError(404, "not_found", fmt::format("no function named '{}' on this node", name));
  ScalingPolicy scaling = runner->pool().scaling();
  for (const auto& [key, value] : patch.items()) {
    if (key != "min" && key != "max" && key != "replicas" && key != "targetConcurrency") {
      return apiError(400, "invalid",
                      fmt::format("unknown field '{}' (known: min, max, replicas, "
                                  "targetConcurrency)",
                                  key),
                      key);
    }
    if (!value.is_number_integer() || !jsonNumber<int>(value)) {
      return apiError(400, "invalid", fmt::format("'{}' must be a whole number", key), key);
    }
  }
  if (patch.contains("replicas")) {
    // A fixed size: exactly this many instances, warm.
    scaling.min = scaling.max = patch["replicas"].get<int>();
    if (scaling.max == 0) scaling.max = 1;  // scale to zero: none warm, one on demand
  }
  if (patch.contains("min")) scaling.min = patch["min"].get<int>();
  if (patch.contains("max")) scaling.max = patch["max"].get<int>();
  if (patch.contains("targetConcurrency")) {
    scaling.target_concurrency = patch["targetConcurrency"].get<int>();
  }
  auto scaled = plane_.scale(name, scaling, actor);
  if (!scaled) return controlError(scaled.error());
  return json(200, {{"name", name}, {"scaling", scalingJson(*scaled)}});
}

std::string ControlApi::nextCallId() const {
  return fmt::format("call-{}-{}", run_token_, calls_.fetch_add(1) + 1);
}

HttpResponse ControlApi::invoke(const std::string& name, const HttpRequest& request, bool async,
                                const std::string& callback) const {
  auto runner = plane_.table().find(name);
  if (!runner)
    return apiError(404, "not_found", fmt::format("no function named '{}' on this node", name));
  if (!running_()) return apiError(503, "unavailable", "the node is not running");
  if (!callback.empty()) {
    if (auto url = http::parseUrl(callback); !url) {
      return apiError(400, "invalid", url.error().message, "X-Callback-Url");
    }
  }
  // The body is one reading: {"sensor": ..., "value": ...}; the sensor may be a query parameter.
  std::vector<gateway::Decoded> decoded;
  const auto sensor = request.query.find("sensor");
  std::string content_type(request.header("content-type"));
  // `curl -d` labels any body a form; the payload sniffer knows better.
  if (content_type.starts_with("application/x-www-form-urlencoded")) content_type.clear();
  RawMessage message{sensor == request.query.end() ? std::string_view() : sensor->second,
                     request.body, content_type, "api"};
  message.received_ns = clock_.nowNs();
  if (auto status = gateway::decodePayload(message, decoded); !status) {
    return apiError(400, "invalid", status.error().message, "", "body");
  }
  if (decoded.size() != 1) {
    return apiError(400, "invalid",
                    fmt::format("the body holds {} readings; invoke takes one", decoded.size()), "",
                    "body");
  }
  if (const auto& bad = decoded.front().error) {
    // Decoder messages quote the key they are about: "no sensor id: set 'sensor' ...".
    return apiError(400, "invalid", bad->message, quotedKey(bad->message), "body");
  }
  if (decoded.front().reading.sensor.str().empty()) {
    return apiError(
        400, "invalid",
        "the reading names no sensor: add \"sensor\" to the body or ?sensor=", "sensor");
  }
  const std::string call_id = nextCallId();
  auto event = std::make_shared<Event>();
  event->id = call_id;
  event->source = "sie://api";
  event->type = std::string(kTelemetryType);
  event->subject = std::string(decoded.front().reading.sensor.str());
  event->time_ns = decoded.front().reading.ts_ns;
  event->telemetry = std::move(decoded.front().reading);
  const bool dry_run = flag(request, "dryRun");
  auto work = [runner, event, dry_run, call_id]() -> std::pair<int, nlohmann::json> {
    const std::int64_t begin = monotonicNs();
    auto output = runner->call(*event, dry_run);
    const double ms = static_cast<double>(monotonicNs() - begin) * 1e-6;
    if (!output) {
      return {output.error().code == Errc::kTimeout ? 504 : 502,
              {{"error", "function_failed"},
               {"message", output.error().str()},
               {"function", runner->spec().id()},
               {"callId", call_id}}};
    }
    return {200,
            {{"function", runner->spec().id()},
             {"callId", call_id},
             {"decision", decisionJson(output->decision)},
             {"events", output->events.size()},
             {"kvWrites", output->kv_writes.size()},
             {"acted", !dry_run},
             {"durationMs", ms}}};
  };
  if (async) {
    if (auto queued = async_.submit(call_id, runner->spec().id(), callback, work); !queued) {
      HttpResponse busy = apiError(429, "too_many_requests", queued.error().message);
      busy.headers["Retry-After"] = "1";
      return busy;
    }
    HttpResponse accepted = json(202, {{"callId", call_id}, {"status", "queued"}});
    accepted.headers["Location"] = "/api/v1/calls/" + call_id;
    accepted.headers["X-Call-Id"] = call_id;
    return accepted;
  }
  auto [status, body] = work();
  HttpResponse response = json(status, body);
  response.headers["X-Call-Id"] = call_id;
  return response;
}

HttpResponse ControlApi::logs(const std::string& name, const HttpRequest& request) const {
  if (!plane_.table().find(name) && plane_.versions(name).empty()) {
    return apiError(404, "not_found", fmt::format("no function named '{}' on this node", name));
  }
  const std::size_t tail = std::min(number(request, "tail").value_or(100), kMaxLogLines);
  auto render = [](const LogLine& line) {
    return dumpJson({{"seq", line.seq},
                     {"time", rfc3339(line.ts_ns)},
                     {"level", line.level},
                     {"function", line.function},
                     {"version", line.version},
                     {"instance", line.instance},
                     {"message", line.text}}) +
           "\n";
  };
  const FunctionLogs& book = FunctionLogs::global();
  std::string body;
  std::uint64_t last = book.latest();  // a follow streams what comes after the tail
  for (const auto& line : book.tail(name, tail)) {
    body += render(line);
    last = line.seq;
  }
  HttpResponse response{200, "application/x-ndjson", std::move(body), {}};
  if (!flag(request, "follow")) return response;
  response.stream = [name, last, render, &book](http::StreamWriter& out) mutable {
    while (out.open()) {
      book.waitFor(name, last, std::chrono::milliseconds(200));
      for (const auto& line : book.tail(name, kMaxLogLines, last)) {
        if (!out.write(render(line))) return;
        last = line.seq;
      }
    }
  };
  return response;
}

HttpResponse ControlApi::readings(const HttpRequest& request) const {
  auto sensor = request.query.find("sensor");
  if (sensor == request.query.end() || sensor->second.empty()) {
    return apiError(400, "invalid", "name the sensor: /api/v1/events?sensor=ID[&limit=N]",
                    "sensor");
  }
  const std::size_t limit =
      std::clamp<std::size_t>(number(request, "limit").value_or(100), 1, 10000);
  auto samples = state_.timeSeries().lastN(Symbol::intern(sensor->second), limit);
  if (!samples) return apiError(500, "state", samples.error().str());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& s : *samples) {
    nlohmann::json reading{
        {"ts_ns", s.ts_ns}, {"time", rfc3339(s.ts_ns)}, {"quality", qualityName(s.quality)}};
    if (s.flag) reading["flag"] = *s.flag;  // why it is not good: stale, out of range, ...
    if (s.values.size() == 1) {
      reading["value"] = s.values.front();
    } else {
      reading["values"] = s.values;
    }
    out.push_back(std::move(reading));
  }
  return json(200, {{"sensor", sensor->second}, {"readings", out}});
}

void ControlApi::addKeyRoutes() {
  routes_.add("GET", "/api/v1/keys", [this](const HttpRequest&, const http::PathParams&) {
    auto store = TrustStore::load(plane_.trust().keysDir());
    if (!store) return apiError(500, "internal", store.error().str());
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& key : store->keys()) keys.push_back({{"id", key.id}, {"pem", key.pem}});
    return json(200, {{"required", plane_.trust().required()},
                      {"folder", plane_.trust().keysDir()},
                      {"keys", keys}});
  });
  routes_.add("POST", "/api/v1/keys", [this](const HttpRequest& r, const http::PathParams&) {
    auto key = readPublicKey(r.body, "body");
    if (!key) return apiError(400, "invalid", key.error().message, "", "body");
    if (auto admitted = plane_.trust().admitKey(r.body, r.header("x-sie-endorsement")); !admitted) {
      const bool bad_request = admitted.error().code == Errc::kInvalidArgument;
      plane_.audit("keys", "key refused", actorOf(r),
                   fmt::format("{}: {}", key->id, admitted.error().message), "deny");
      return apiError(bad_request ? 400 : 403, bad_request ? "invalid" : "forbidden",
                      admitted.error().message, "X-Sie-Endorsement");
    }
    const auto name = r.query.find("name");
    if (auto added = TrustStore::add(plane_.trust().keysDir(), r.body,
                                     name == r.query.end() ? "" : name->second);
        !added) {
      return apiError(added.error().code == Errc::kAlreadyExists ? 409 : 400,
                      added.error().code == Errc::kAlreadyExists ? "conflict" : "invalid",
                      added.error().message);
    }
    plane_.audit("keys", "key trusted", actorOf(r), key->id);
    return json(201, {{"id", key->id}});
  });
  routes_.add(
      "DELETE", "/api/v1/keys/{id}", [this](const HttpRequest& r, const http::PathParams& p) {
        if (auto removed = TrustStore::remove(plane_.trust().keysDir(), p.at("id")); !removed) {
          return apiError(removed.error().code == Errc::kNotFound ? 404 : 400,
                          removed.error().code == Errc::kNotFound ? "not_found" : "invalid",
                          removed.error().message);
        }
        plane_.audit("keys", "key removed", actorOf(r), p.at("id"));
        return json(200, {{"removed", p.at("id")}});
      });
}

HttpResponse ControlApi::rolloutStatus(const std::string& name) const {
  if (!plane_.table().find(name)) {
    return apiError(404, "not_found", fmt::format("no function named '{}' on this node", name));
  }
  auto status = plane_.table().rollout(name);
  if (!status) return json(200, {{"name", name}, {"active", false}});
  const RolloutPolicy& p = status->policy;
  nlohmann::json out{{"name", name},
                     {"active", true},
                     {"serving", status->serving},
                     {"candidate", status->candidate},
                     {"strategy", strategyName(p.strategy)},
                     {"weight", p.weight},
                     {"objectives",
                      {{"maxErrorRate", p.max_error_rate},
                       {"maxLatencyMs", p.max_p99_ms},
                       {"minInvocations", p.min_invocations}}},
                     {"servingStats", statsJson(status->serving_stats)},
                     {"candidateStats", statsJson(status->candidate_stats)}};
  if (!status->shadow.is_null()) out["shadow"] = status->shadow;
  return json(200, out);
}

HttpResponse ControlApi::rolloutChange(const std::string& name, const std::string& body,
                                       const std::string& actor) const {
  auto fields = parseJsonOrDiscarded(body);
  if (fields.is_discarded() || !fields.is_object()) {
    return apiError(400, "invalid_json", "the body must be a JSON object such as {\"weight\": 50}");
  }
  auto status = plane_.table().rollout(name);
  if (!status) return apiError(404, "not_found", fmt::format("'{}' has no rollout running", name));
  auto policy = policyFrom(fields, status->policy);
  if (auto* answer = std::get_if<HttpResponse>(&policy)) return *answer;
  if (auto changed = plane_.setRollout(name, std::get<RolloutPolicy>(policy), actor); !changed) {
    return controlError(changed.error());
  }
  return rolloutStatus(name);
}

HttpResponse ControlApi::ready() const {
  if (!running_()) return json(503, {{"ready", false}, {"reason", "the node is not running"}});
  nlohmann::json waiting = nlohmann::json::array();
  for (const auto& runner : plane_.table().runners()) {
    if (runner->pool().scaling().min > 0 && runner->pool().live() == 0) {
      waiting.push_back(runner->spec().id());
    }
  }
  if (!waiting.empty()) {
    return json(503, {{"ready", false},
                      {"reason", "functions without a warm instance"},
                      {"functions", waiting}});
  }
  return json(200, {{"ready", true}});
}

}  // namespace sie::node
