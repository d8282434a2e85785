#include "exec/process/dapr_api.h"
#include "core/json_text.h"
#include "sie/config.h"

#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sie::node {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

// Messages quote the request (its path), which need not be UTF-8: such bytes are replaced.
HttpResponse daprError(int status, std::string_view code, const std::string& message) {
  return {status,
          "application/json",
          json{{"errorCode", code}, {"message", message}}.dump(-1, ' ', false,
                                                               json::error_handler_t::replace),
          {}};
}

HttpResponse noContent() { return {204, "application/json", "", {}}; }

// "/v1.0/state/store/key" -> {"v1.0", "state", "store", "key"}; a key may contain '/'.
std::vector<std::string> segments(std::string_view path, std::size_t max) {
  std::vector<std::string> out;
  if (path.starts_with('/')) path.remove_prefix(1);
  while (!path.empty() && out.size() + 1 < max) {
    const auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) return out;
    path.remove_prefix(slash + 1);
  }
  if (!path.empty()) out.emplace_back(path);
  return out;
}

}  // namespace

Result<std::unique_ptr<DaprApi>> DaprApi::start(std::string function, KvStore& kv, Bus& bus,
                                                const Clock& clock) {
  std::unique_ptr<DaprApi> api(new DaprApi(std::move(function), kv, bus, clock));
  api->server_ = SIE_TRY(http::HttpServer::start(
      "127.0.0.1:0", [raw = api.get()](const HttpRequest& r) { return raw->handle(r); }));
  return api;
}

DaprApi::~DaprApi() {
  if (server_) server_->stop();
}

std::string DaprApi::key(const std::string& store, const std::string& key) const {
  return fmt::format("dapr/{}/{}||{}", store, function_, key);
}

HttpResponse DaprApi::handle(const HttpRequest& request) {
  const auto parts = segments(request.path, 4);
  if (parts.size() >= 2 && parts[0] == "v1.0" && parts[1] == "healthz") return noContent();
  if (parts.size() < 3 || parts[0] != "v1.0") {
    return daprError(404, "ERR_NOT_FOUND", "unknown route " + request.path);
  }
  const std::string& api = parts[1];
  if (api == "state") {
    const std::string& store = parts[2];
    if (parts.size() == 3 && request.method == "POST") return saveState(store, request.body);
    if (parts.size() == 4 && parts[3] == "bulk" && request.method == "POST") {
      return bulkGet(store, request.body);
    }
    if (parts.size() == 4 && request.method == "GET") {
      auto value = kv_.get(key(store, parts[3]));
      if (!value) return daprError(500, "ERR_STATE_GET", value.error().str());
      if (!*value) return noContent();
      return {200, "application/json", **value, {}};
    }
    if (parts.size() == 4 && request.method == "DELETE") {
      auto erased = kv_.erase(key(store, parts[3]));
      if (!erased) return daprError(500, "ERR_STATE_DELETE", erased.error().str());
      return noContent();
    }
    return daprError(405, "ERR_METHOD_NOT_ALLOWED", request.method + " " + request.path);
  }
  if (api == "publish" && parts.size() == 4 && request.method == "POST") {
    return publish(parts[2], parts[3], request);
  }
  return daprError(404, "ERR_NOT_FOUND", "unknown route " + request.path);
}

HttpResponse DaprApi::saveState(const std::string& store, const std::string& body) {
  const json items = parseJsonOrDiscarded(body);
  if (!items.is_array()) {
    return daprError(400, "ERR_MALFORMED_REQUEST",
                     "the body must be a JSON array of {\"key\", \"value\"} objects");
  }
  for (const json& item : items) {
    if (!item.is_object() || !item.contains("key") || !item["key"].is_string() ||
        item["key"].get<std::string>().empty()) {
      return daprError(400, "ERR_MALFORMED_REQUEST", "every item needs a non-empty string key");
    }
    std::chrono::milliseconds ttl{0};
    if (const auto meta = item.find("metadata"); meta != item.end() && meta->is_object()) {
      if (const auto t = meta->find("ttlInSeconds"); t != meta->end()) {
        const std::string text = t->is_string() ? t->get<std::string>() : t->dump();
        long long seconds = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
        if (ec != std::errc() || end != text.data() + text.size() || seconds < 0 ||
            seconds > std::chrono::seconds(kMaxDuration).count()) {
          return daprError(400, "ERR_MALFORMED_REQUEST",
                           fmt::format("metadata.ttlInSeconds must be an integer from 0 to {} "
                                       "(100 years)",
                                       std::chrono::seconds(kMaxDuration).count()));
        }
        ttl = std::chrono::seconds(seconds);
      }
    }
    const std::string value = item.contains("value") ? item["value"].dump() : "null";
    if (auto put = kv_.put(key(store, item["key"].get<std::string>()), value, ttl); !put) {
      return daprError(500, "ERR_STATE_SAVE", put.error().str());
    }
  }
  return noContent();
}

HttpResponse DaprApi::bulkGet(const std::string& store, const std::string& body) {
  const json request = parseJsonOrDiscarded(body);
  if (!request.is_object() || !request.contains("keys") || !request["keys"].is_array()) {
    return daprError(400, "ERR_MALFORMED_REQUEST", "the body must be {\"keys\": [...]}");
  }
  json out = json::array();
  for (const json& k : request["keys"]) {
    if (!k.is_string()) return daprError(400, "ERR_MALFORMED_REQUEST", "keys are strings");
    auto value = kv_.get(key(store, k.get<std::string>()));
    if (!value) return daprError(500, "ERR_STATE_GET", value.error().str());
    json entry{{"key", k}};
    if (*value) entry["data"] = parseJsonOrDiscarded(**value);
    out.push_back(std::move(entry));
  }
  return {200, "application/json", out.dump(), {}};
}

HttpResponse DaprApi::publish(const std::string& pubsub, const std::string& topic,
                              const HttpRequest& request) {
  Event event;
  event.id = fmt::format("dapr-{}-{}", function_, clock_.nowNs());
  event.source = fmt::format("sie://function/{}/dapr/{}", function_, pubsub);
  event.type = "com.dapr.event.sent";
  event.subject = topic;
  event.time_ns = clock_.nowNs();
  const std::string_view type = request.header("content-type");
  event.datacontenttype = type.empty() ? "application/json" : std::string(type);
  event.data = request.body;
  bus_.publish(topic, event);
  return noContent();
}

}  // namespace sie::node
