#include "adapters/webhook/plugin.h"

#include <fmt/format.h>

#include "adapters/webhook/webhook_sink.h"
#include "core/topic_pattern.h"

namespace sie::webhook {
namespace {

using Type = ConfigKey::Type;

const ConfigKey kKeys[] = {
    {"url", Type::kString, "", "http[s]://host[:port]/path the events are POSTed to", true},
    {"caFile", Type::kString, "",
     "https: the CAs the endpoint's certificate must chain to (PEM; default: the system's)"},
    {"certFile", Type::kString, "",
     "https: this node's client certificate, for an endpoint that requires mutual TLS"},
    {"keyFile", Type::kString, "", "https: the key of certFile"},
    {"subscribe", Type::kStringList, "", "bus topic patterns to deliver (default: decisions/#)"},
    ConfigKey{"mode", Type::kString, "binary",
              "CloudEvents HTTP mode: binary (ce-* headers) or structured"}
        .oneOf("binary|structured"),
    {"headers", Type::kStringList, "", "extra request headers, \"Name: value\" (e.g. an API key)"},
    ConfigKey{"timeout", Type::kDuration, "5s", "connect and response timeout per attempt"}
        .withinTime(std::chrono::milliseconds(1)),
    ConfigKey{"retries", Type::kInt, "3",
              "attempts after the first for 408, 429, 5xx and connection errors"}
        .within(0, 100),
    ConfigKey{"retryBackoff", Type::kDuration, "200ms",
              "first retry delay (doubles, with jitter, up to 10s)"}
        .withinTime(std::chrono::milliseconds(1)),
    ConfigKey{"maxQueued", Type::kInt, "10000",
              "events waiting for the webhook; more are dead-lettered"}
        .within(1, 10'000'000),
};

Result<WebhookOptions> read(const ConfigValues& config) {
  auto url = http::parseUrl(config.str("url"));
  if (!url) return config.invalid(url.error().message);
  WebhookOptions out;
  out.tls = url->tls;
  out.host = url->host;
  out.port = std::stoi(url->port);  // checked by parseUrl
  out.target = url->target;
  const std::string ca = config.str("caFile");
  const std::string cert = config.str("certFile");
  const std::string key = config.str("keyFile");
  if (!out.tls && !(ca.empty() && cert.empty() && key.empty())) {
    return config.invalid("caFile, certFile and keyFile are for an https:// url");
  }
  if (cert.empty() != key.empty()) return config.invalid("certFile and keyFile go together");
  if (out.tls) {
    auto tls = http::ClientTls::load({.ca_file = ca, .cert_file = cert, .key_file = key});
    if (!tls) return config.invalid(tls.error().str());
    out.tls_context = std::move(*tls);
  }
  if (auto patterns = config.list("subscribe"); !patterns.empty()) out.subscribe = patterns;
  for (const auto& pattern : out.subscribe) {
    if (auto p = TopicPattern::parse(pattern); !p)
      return config.invalid("subscribe: " + p.error().message);
  }
  out.structured = config.str("mode") == "structured";
  for (const auto& header : config.list("headers")) {
    const std::size_t colon = header.find(':');
    if (colon == std::string::npos || colon == 0) {
      return config.invalid(fmt::format("header '{}' must read \"Name: value\"", header));
    }
    std::string value = header.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    out.headers.emplace_back(header.substr(0, colon), std::move(value));
  }
  out.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.duration("timeout"));
  out.retries = static_cast<int>(config.integer("retries"));
  out.backoff_min =
      std::chrono::duration_cast<std::chrono::milliseconds>(config.duration("retryBackoff"));
  out.backoff_max = std::max(out.backoff_min, out.backoff_max);
  out.max_queued = static_cast<std::size_t>(config.integer("maxQueued"));
  return out;
}

}  // namespace

Status registerPlugins(Plugins& plugins) {
  SinkPlugin sink;
  sink.description = "HTTP webhook: bus events POSTed as CloudEvents, retried, dead-lettered";
  sink.keys.assign(std::begin(kKeys), std::end(kKeys));
  sink.make = [](const std::string& name,
                 const ConfigValues& config) -> Result<std::unique_ptr<Sink>> {
    return std::make_unique<WebhookSink>(name, SIE_TRY(read(config)));
  };
  return plugins.sinks.add("webhook", std::move(sink));
}

}  // namespace sie::webhook
