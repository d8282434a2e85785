#include "node/node.h"

#include <charconv>
#include <filesystem>
#include <span>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "adapters/http_ingest/http_ingest.h"
#include "control/api_privacy.h"
#include "core/config_table.h"
#include "core/file_text.h"
#include "core/topic_pattern.h"
#include "exec/process/sandbox_layers.h"
#include "gateway/gateway_config.h"
#include "security/pki.h"
#include "state/embedded_store.h"

namespace sie::node {
namespace {

// Keys the node reads itself (site_config.cc, privacy/site_privacy.h), not the plugin: a
// source's personal tags, a sink's privacy rules.
constexpr std::string_view kSourceReserved[] = {"name", "type", "personal"};
constexpr std::string_view kSinkReserved[] = {"name", "type", "privacy"};
constexpr int kHttpThreads = 4;
// How often the policy file is looked at for a change.
constexpr std::chrono::seconds kPolicyCheckInterval{1};

// Calls that may run for seconds (a synchronous invocation waits for its function, a deploy
// starts workers, an upload is hashed): handled off the I/O threads, which keep answering the
// others (health probes, metrics, ingest).
bool takesLong(const HttpRequest& request) {
  if (request.method == "GET") return false;
  const auto action = security::actionFor(request.method, request.path);
  using security::Action;
  return action == Action::kInvoke || action == Action::kDeploy || action == Action::kDelete ||
         action == Action::kScale || action == Action::kRollout || action == Action::kArtifacts;
}

// Makes the source or sink of one block with its plugin.
template <typename Made, typename Plugin>
Result<std::unique_ptr<Made>> makeFromBlock(const Registry<Plugin>& registry,
                                            const PluginBlock& block, const std::string& file,
                                            std::span<const std::string_view> reserved) {
  const std::string where = yamlWhere(file, block.config);
  auto plugin = registry.find(block.type);
  if (!plugin) return fail(Errc::kInvalidArgument, plugin.error().message, where);
  auto config = SIE_TRY(readConfig(block.config, (*plugin)->keys, file, reserved));
  auto made = (*plugin)->make(block.name, config);
  if (!made) {
    Error error = made.error();
    if (error.where.empty()) error.where = where;
    return tl::unexpected(error);
  }
  return std::move(*made);
}

Result<std::unique_ptr<StateStore>> openState(const SiteConfig& site, const Plugins& plugins,
                                              const Clock& clock) {
  auto plugin = plugins.states.find(site.state_backend);
  if (!plugin) {
    return fail(Errc::kInvalidArgument, plugin.error().message + " in state.backend", site.file);
  }
  const YAML::Node block = site.state_block.IsDefined() && !site.state_block.IsNull()
                               ? site.state_block
                               : YAML::Node(YAML::NodeType::Map);
  auto config = SIE_TRY(readConfig(block, (*plugin)->keys, site.file));
  StateOptions options{
      site.name, site.data_dir,  site.state_batch_interval, site.state_memory_window,
      &clock,    site.audit.seal};
  return (*plugin)->make(options, config);
}

// Messages quote the request (its path), which need not be UTF-8: such bytes are replaced.
HttpResponse jsonError(int status, std::string_view code, const std::string& message) {
  return {status, "application/json",
          nlohmann::json{{"error", code}, {"message", message}}.dump(
              -1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

std::size_t limitParam(const HttpRequest& request, std::size_t fallback) {
  auto it = request.query.find("limit");
  if (it == request.query.end()) return fallback;
  std::size_t value = fallback;
  std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  return std::clamp<std::size_t>(value, 1, 10000);
}

std::string jsonArray(const std::vector<std::string>& docs) {
  std::string out = "[";
  for (const auto& d : docs) {
    if (out.size() > 1) out += ',';
    out += d;
  }
  return out + "]";
}

}  // namespace

Result<std::unique_ptr<Node>> Node::create(SiteConfig site, const Plugins& plugins,
                                           const Clock& clock) {
  std::unique_ptr<Node> node(new Node(std::move(site), clock));
  node->state_ = SIE_TRY(openState(node->site_, plugins, clock));
  node->actions_ =
      std::make_unique<Actions>(node->bus_, node->state_->audit(), clock, 1000,
                                AnomalyAudit::Options{node->site_.audit.anomalies_per_second,
                                                      node->site_.audit.anomaly_burst});
  node->dispatcher_ =
      std::make_unique<Dispatcher>(node->site_.dispatcher, node->state_->deadLetters(), clock);
  SIE_CHECK(node->loadFunctions(plugins));
  auto gateway_config = SIE_TRY(
      gateway::parseGatewayConfig(node->site_.gateway, node->site_.routes, node->site_.file));
  node->gateway_ = std::make_unique<gateway::Gateway>(
      std::move(gateway_config), node->state_->timeSeries(), node->state_->deadLetters(),
      &node->state_->kv(), [state = node->state_.get()] { return state->sync(); }, node->router_,
      *node->dispatcher_, clock);
  node->ingest_keys_ = std::make_unique<IdempotencyKeys>(node->state_->kv());
  SIE_CHECK(node->loadSources(plugins));
  return node;
}

Status Node::loadFunctions(const Plugins& plugins) {
  FunctionLogs::installSink();
  functions_ = std::make_unique<FunctionTable>(*dispatcher_, router_, *state_, *actions_, bus_,
                                               plugins.runtimes, clock_);
  const std::string keys = site_.trusted_keys.empty()
                               ? (std::filesystem::path(site_.data_dir) / "keys").string()
                               : site_.trusted_keys;
  ArtifactStore artifacts(site_.data_dir, site_.artifact_quota_bytes);
  SIE_CHECK(artifacts.prepare());
  control_ = std::make_unique<ControlPlane>(
      *functions_, state_->audit(), SIE_TRY(DesiredState::load(site_.data_dir)),
      ArtifactTrust(keys, site_.require_signatures, site_.security.key_authority),
      std::move(artifacts));
  SIE_CHECK(control_->load(site_.function_files));
  tokens_ = SIE_TRY(security::TokenStore::open(
      (std::filesystem::path(site_.data_dir) / "security").string(), clock_));
  CallbackPolicy callbacks{.networks = std::make_shared<const http::NetworkList>(SIE_TRY(
                               http::NetworkList::parse(site_.security.callback_networks)))};
  if (const auto& tls = site_.security.tls) {
    // Callbacks to other nodes of the site show this node's certificate; public endpoints are
    // checked against the system's CAs.
    callbacks.tls = SIE_TRY(http::ClientTls::load({.ca_file = tls->ca_file,
                                                   .cert_file = tls->cert_file,
                                                   .key_file = tls->key_file,
                                                   .system_cas_too = true}));
  }
  api_ = std::make_unique<ControlApi>(
      *control_, *state_, clock_, [this] { return running_.load(); }, tokens_.get(),
      std::move(callbacks));
  addRoutes();
  return ok();
}

Status Node::loadSources(const Plugins& plugins) {
  for (const auto& block : site_.sources) {
    sources_.push_back(
        SIE_TRY(makeFromBlock<Source>(plugins.sources, block, site_.file, kSourceReserved)));
  }
  for (const auto& block : site_.sinks) {
    sinks_.push_back(SIE_TRY(makeFromBlock<Sink>(plugins.sinks, block, site_.file, kSinkReserved)));
    sink_buses_.push_back(
        std::make_unique<privacy::PrivateBus>(bus_, block.name, site_.privacy.forSink(block.name)));
  }
  return ok();
}

Status Node::guardListener() {
  const std::string host = site_.http.substr(0, site_.http.rfind(':'));
  const auto& tls = site_.security.tls;
  if (!security::isLoopback(host) && (!tls || !site_.security.authenticate)) {
    // Bearer tokens and deploys in clear text, or no caller check at all, on a plant network:
    // anyone on the path could take the node over.
    return fail(Errc::kInvalidArgument,
                fmt::format("spec.http {} is not a loopback address, and this node {}: either "
                            "configure spec.security.tls (sie pki init, then sie pki issue node "
                            "NAME; docs/SECURITY.md) with authentication on, or listen on "
                            "127.0.0.1:PORT",
                            site_.http,
                            tls ? "has authentication off"
                                : "serves plain HTTP, which would carry tokens and deploys in "
                                  "clear text"),
                site_.file);
  }
  std::string trust_domain;
  if (tls) {
    const auto own = SIE_TRY(security::inspectCertificate(tls->cert_file));
    constexpr std::string_view kScheme = "spiffe://";
    if (!own.spiffe_id.starts_with(kScheme)) {
      return fail(Errc::kInvalidArgument,
                  "spec.security.tls.certFile has no spiffe:// identity (URI SAN), so the node "
                  "cannot tell its trust domain: issue it with sie pki issue node NAME",
                  tls->cert_file);
    }
    const std::string_view rest = std::string_view(own.spiffe_id).substr(kScheme.size());
    trust_domain = std::string(rest.substr(0, rest.find('/')));
    spdlog::info("security: TLS 1.3 on {} as {}, client certificates {} (trust domain {})",
                 site_.http, own.spiffe_id,
                 tls->require_client_certificate ? "required" : "optional, else a bearer token",
                 trust_domain);
  }
  std::shared_ptr<security::PolicyStore> policy;
  if (!site_.security.policy_file.empty()) {
    policy = SIE_TRY(security::PolicyStore::open(site_.security.policy_file, state_->audit(),
                                                 clock_, kPolicyCheckInterval));
  }
  std::shared_ptr<security::DecisionPoint> decision_point;
  if (const auto& opa = site_.security.opa) {
    auto made = security::DecisionPoint::make(
        {.url = opa->url, .timeout = opa->timeout, .cache_ttl = opa->cache_ttl}, clock_);
    if (!made)
      return fail(made.error().code, "spec.security.opa: " + made.error().message, site_.file);
    decision_point = std::move(*made);
    spdlog::info(
        "security: every call the local policy allows is also asked of {} (timeout {} "
        "ms, fail closed)",
        opa->url, opa->timeout.count());
  }
  if (!site_.security.authenticate) {
    spdlog::warn(
        "security: no authentication (--insecure-loopback-only): every process on this "
        "host can deploy and run code through http://{}",
        site_.http);
  } else if (auto all = tokens_->list(); all && all->empty()) {
    // A first start: an admin token only this user can read, for the CLI and the first tokens.
    auto issued = tokens_->create("bootstrap-admin", security::Role::kAdmin, {});
    if (!issued) return tl::unexpected(issued.error());
    const std::string file =
        (std::filesystem::path(site_.data_dir) / "security" / "admin.token").string();
    SIE_CHECK(writeFileAtomically(file, issued->text + "\n", 0600));
    spdlog::info(
        "security: no tokens yet; an admin token (id {}) is in {}, readable by this user "
        "only: sie token create NAME --role operator --token-file {}",
        issued->token.id, file, file);
  } else if (!all) {
    return tl::unexpected(all.error());
  }
  std::vector<std::string> hosts = site_.security.hosts;
  hosts.push_back(host);
  guard_ = std::make_unique<security::RequestGuard>(
      security::GuardOptions{.authenticate = site_.security.authenticate,
                             .hosts = hosts,
                             .calls_per_second = site_.security.calls_per_second,
                             .burst = site_.security.burst,
                             .trust_domain = trust_domain,
                             .policy = std::move(policy),
                             .decision_point = std::move(decision_point)},
      tokens_.get(), state_->audit());
  return ok();
}

std::optional<HttpResponse> Node::admit(HttpRequest& request) {
  if (auto refused = guard_->admit(request)) return refused;
  // An upload that cannot fit the artifact quota is refused before a byte of it is spooled.
  if (request.method == "PUT" && request.path.starts_with("/api/v1/artifacts/")) {
    std::uint64_t length = 0;
    const std::string_view text = request.header("content-length");
    std::from_chars(text.data(), text.data() + text.size(), length);
    if (auto room = control_->artifacts().checkRoom(length); !room) {
      return HttpResponse{
          507,
          "application/json",
          nlohmann::json{{"error", "quota_exceeded"}, {"message", room.error().message}}.dump(),
          {}};
    }
  }
  return std::nullopt;
}

Status Node::start() {
  // A listener the site may not have is refused before anything starts.
  if (!site_.http.empty()) SIE_CHECK(guardListener());
  // Which sandbox layers this kernel gives process functions, and what is missing.
  const process::SandboxLayers layers = process::probeSandboxLayers();
  spdlog::info("sandbox: {} (sie doctor says more)", process::summary(layers));
  for (const auto& line : process::describe(layers)) {
    if (!line.ok) spdlog::warn("sandbox: {}", line.text);
  }
  started_ns_ = clock_.monotonicNs();
  SIE_CHECK(functions_->start());
  dispatcher_->start();
  scaler_ = std::make_unique<Scaler>([table = functions_.get()] { table->tick(); });
  nlohmann::json functions = nlohmann::json::array();
  for (const auto& runner : functions_->runners()) {
    nlohmann::json entry{{"function", runner->spec().id()}};
    for (const auto& [key, value] : runner->artifact()) entry[key] = value;
    functions.push_back(std::move(entry));
  }
  SIE_TRY(state_->audit().append(
      "lifecycle", "node",
      nlohmann::json{{"event", "started"}, {"site", site_.name}, {"functions", functions}}.dump()));
  if (!site_.http.empty()) {
    // Several threads: a synchronous invocation holds one while others answer. Uploads go to
    // the artifact store's incoming folder as they arrive, once the guard let them in.
    http::ServerOptions options{.threads = kHttpThreads,
                                .admit = [this](HttpRequest& r) { return admit(r); },
                                .spool = http::Spool{.prefix = "/api/v1/artifacts/",
                                                     .dir = control_->artifacts().incomingDir(),
                                                     .max_bytes = site_.max_artifact_bytes}};
    options.offload = &takesLong;
    if (const auto& tls = site_.security.tls) {
      options.tls = http::TlsServerOptions{
          .cert_file = tls->cert_file,
          .key_file = tls->key_file,
          .ca_file = tls->ca_file,
          .crl_file = tls->crl_file,
          .client_uri_prefix = fmt::format("spiffe://{}/", guard_->trustDomain()),
          .require_client_certificate = tls->require_client_certificate};
      options.tls_reload =
          std::chrono::duration_cast<std::chrono::milliseconds>(tls->reload_interval);
      options.on_tls_refused = [this](const std::string& peer, const std::string& reason) {
        guard_->tlsRefused(peer, reason);
      };
    }
    if (const auto& tls = site_.security.tls; tls && !tls->renew_with.empty()) {
      renewal_ = std::make_unique<CertificateRenewal>(tls->cert_file, tls->renew_with,
                                                      tls->reload_interval, state_->audit());
    }
    http_ = SIE_TRY(HttpServer::start(
        site_.http, [this](const HttpRequest& r) { return handleHttp(r); }, std::move(options)));
  }
  // Each sink subscribes through its own privacy rules: nothing reaches it unfiltered.
  for (std::size_t i = 0; i < sinks_.size(); ++i) {
    SIE_CHECK(sinks_[i]->start({*sink_buses_[i], state_->deadLetters(), state_->audit()}));
  }
  for (auto& source : sources_) SIE_CHECK(source->start(*gateway_));
  running_ = true;
  spdlog::info("node '{}' running: {} functions, {} sources, {} sinks, state in {}{}", site_.name,
               functions_->runners().size(), sources_.size(), sinks_.size(), site_.data_dir,
               http_ ? fmt::format(", {} on {}", site_.security.tls ? "https" : "http",
                                   site_.http.substr(0, site_.http.rfind(':') + 1) +
                                       std::to_string(http_->port()))
                     : "");
  return ok();
}

void Node::stop() {
  if (stopped_.exchange(true)) return;
  running_ = false;
  for (auto& source : sources_) source->stop();
  if (dispatcher_) dispatcher_->stop();
  if (api_) api_->stop();  // queued async calls still run on the functions
  scaler_.reset();
  if (functions_) functions_->stop();
  for (auto& sink : sinks_) sink->stop();
  if (state_) {
    if (actions_) actions_->flushAudit();  // the counts of rate-limited anomaly records
    const NodeStats s = stats();
    auto appended = state_->audit().append("lifecycle", "node",
                                           nlohmann::json{{"event", "stopped"},
                                                          {"events", s.events},
                                                          {"decisions", s.decisions},
                                                          {"anomalies", s.anomalies}}
                                               .dump());
    if (!appended) spdlog::error("audit: {}", appended.error().str());
    if (auto synced = state_->sync(); !synced) spdlog::error("state: {}", synced.error().str());
    if (auto closed = state_->close(); !closed) spdlog::error("state: {}", closed.error().str());
  }
  renewal_.reset();
  if (http_) http_->stop();
}

Node::~Node() { stop(); }

NodeStats Node::stats() const {
  const MetricsRegistry& m = metrics();
  NodeStats s;
  s.rejected = m.counterTotal("sie_gateway_rejected_total");
  s.events = m.counterTotal("sie_gateway_received_total") - s.rejected;
  for (const auto& runner : functions_->runners()) {
    s.decisions += runner->decisions();
    s.anomalies += runner->anomalies();
    s.function_errors += runner->errors();
  }
  if (state_ && !stopped_) {
    if (auto n = state_->deadLetters().count()) s.dead_letters = *n;
  }
  s.queued = dispatcher_ ? dispatcher_->queued() : 0;
  s.uptime_s = static_cast<double>(clock_.monotonicNs() - started_ns_) * 1e-9;
  return s;
}

std::string Node::statusJson() const {
  const NodeStats s = stats();
  nlohmann::json functions = nlohmann::json::array();
  for (const auto& runner : functions_->runners()) {
    const FunctionSpec& spec = runner->spec();
    functions.push_back({{"name", spec.name},
                         {"version", spec.version},
                         {"runtime", spec.runtime},
                         {"handler", spec.handler},
                         {"triggers", spec.triggers}});
    if (auto artifact = runner->artifact(); !artifact.empty())
      functions.back()["artifact"] = artifact;
  }
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& block : site_.sources)
    sources.push_back({{"name", block.name}, {"type", block.type}});
  // Triggers need not be UTF-8: such bytes are replaced.
  return nlohmann::json{{"site", site_.name},
                        {"running", running_.load()},
                        {"uptime_s", s.uptime_s},
                        {"events", s.events},
                        {"rejected", s.rejected},
                        {"decisions", s.decisions},
                        {"anomalies", s.anomalies},
                        {"function_errors", s.function_errors},
                        {"dead_letters", s.dead_letters},
                        {"queued", s.queued},
                        {"functions", functions},
                        {"sources", sources}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpResponse Node::handleHttp(const HttpRequest& request) {
  auto answered = api_->handle(request);
  HttpResponse response =
      answered ? std::move(*answered)
               : jsonError(404, "not_found",
                           fmt::format("no endpoint {}; try /healthz, /readyz, /metrics, "
                                       "/api/v1/status, /api/v1/functions, /api/v1/decisions, "
                                       "/api/v1/dead-letters, /api/v1/audit (api/openapi.yaml "
                                       "lists them all)",
                                       request.path));
  applyApiPrivacy(request, response, *site_.privacy.api);
  return response;
}

void Node::addRoutes() {
  using Params = http::PathParams;
  api_->add("POST", "/api/v1/events", [this](const HttpRequest& request, const Params&) {
    return ingestHttp(request, *gateway_, clock_, *ingest_keys_);
  });
  api_->add("GET", "/healthz", [this](const HttpRequest&, const Params&) {
    return running_ ? HttpResponse{200, "application/json", R"({"status":"ok"})"}
                    : HttpResponse{503, "application/json", R"({"status":"stopping"})"};
  });
  api_->add("GET", "/metrics", [](const HttpRequest&, const Params&) {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics().render()};
  });
  api_->add("GET", "/api/v1/status", [this](const HttpRequest&, const Params&) {
    return HttpResponse{200, "application/json", statusJson()};
  });
  api_->add("GET", "/api/v1/decisions", [this](const HttpRequest& request, const Params&) {
    const bool anomalies =
        request.query.contains("anomalies") && request.query.at("anomalies") != "false";
    return HttpResponse{200, "application/json",
                        jsonArray(actions_->recent(limitParam(request, 100), anomalies))};
  });
  api_->add("GET", "/api/v1/dead-letters",
            [this](const HttpRequest& request, const Params&) { return deadLetters(request); });
  api_->add("GET", "/api/v1/audit",
            [this](const HttpRequest& request, const Params&) { return auditTail(request); });
}

HttpResponse Node::deadLetters(const HttpRequest& request) const {
  if (stopped_) return jsonError(503, "stopping", "the node is stopping");
  auto letters = state_->deadLetters().list(limitParam(request, 100));
  if (!letters) return jsonError(500, "state", letters.error().str());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& l : *letters) {
    out.push_back({{"id", l.id},
                   {"ts_ns", l.ts_ns},
                   {"origin", l.origin},
                   {"reason", l.reason},
                   {"subject", l.subject},
                   {"payload", l.payload}});
  }
  return {200, "application/json",
          out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

HttpResponse Node::auditTail(const HttpRequest& request) const {
  if (stopped_) return jsonError(503, "stopping", "the node is stopping");
  auto records = state_->audit().tail(limitParam(request, 20));
  if (!records) return jsonError(500, "state", records.error().str());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : *records) {
    out.push_back({{"seq", r.seq},
                   {"ts_ns", r.ts_ns},
                   {"kind", r.kind},
                   {"subject", r.subject},
                   {"body", r.body},
                   {"hash", r.hash}});
  }
  return {200, "application/json",
          out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

}  // namespace sie::node
