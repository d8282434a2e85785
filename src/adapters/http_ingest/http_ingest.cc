#include "adapters/http_ingest/http_ingest.h"

#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gateway/payload_decoder.h"
#include "http/media_type.h"

namespace sie::node {
namespace {

// Messages quote the request (a header, a sensor id), which need not be UTF-8: such bytes are
// replaced.
HttpResponse error(int status, std::string_view code, std::string message) {
  return {status,
          "application/json",
          nlohmann::json{{"error", code}, {"message", std::move(message)}}.dump(
              -1, ' ', false, nlohmann::json::error_handler_t::replace),
          {}};
}

// A binary-mode CloudEvent rewritten in structured mode, so one decoder checks both.
std::string structuredFromBinary(const HttpRequest& request) {
  nlohmann::json envelope = nlohmann::json::object();
  for (const char* name : {"specversion", "id", "source", "type", "subject", "time"}) {
    const std::string_view value = request.header(std::string("ce-") + name);
    if (!value.empty()) envelope[name] = value;
  }
  envelope["datacontenttype"] = "application/json";
  // The data is spliced in as text: the decoder checks it, and reports its own errors.
  std::string text = envelope.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.pop_back();  // '}'
  text += R"(,"data":)";
  text += request.body;
  text += '}';
  return text;
}

// A caller admitted for some sensors only (its credential's, the site policy's) sends readings
// for those: the whole request is refused (403) when one reading names another sensor.
std::optional<HttpResponse> outsideScope(const RawMessage& message,
                                         const http::ResourceScope& scope) {
  std::vector<gateway::Decoded> decoded;
  if (!gateway::decodePayload(message, decoded)) return std::nullopt;  // the gateway says why
  for (const auto& d : decoded) {
    if (d.error) continue;
    if (auto refused = scope.refusal(http::ResourceKind::kSensor, d.reading.sensor.str())) {
      return error(403, "forbidden", std::move(*refused));
    }
  }
  return std::nullopt;
}

// A single structured CloudEvent's source and id ("" when the body is not one).
std::pair<std::string, std::string> structuredIdentity(std::string_view body) {
  const auto event = nlohmann::json::parse(body, nullptr, false);
  if (!event.is_object()) return {};
  const auto text = [&](const char* name) {
    const auto it = event.find(name);
    return it != event.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  return {text("source"), text("id")};
}

}  // namespace

HttpResponse ingestHttp(const HttpRequest& request, gateway::Gateway& gateway, const Clock& clock,
                        IdempotencyKeys& keys) {
  std::string structured;
  std::string_view payload = request.body;
  std::string content_type(request.header("content-type"));
  if (!request.header("ce-specversion").empty()) {
    const std::string type = http::mediaType(content_type);
    if (!type.empty() && type != "application/json") {
      return error(415, "unsupported_media_type",
                   fmt::format("binary-mode CloudEvents need JSON data (got Content-Type '{}'); "
                               "send application/json or use structured mode",
                               type));
    }
    // A body that is not JSON goes in as it is, so its error names the right byte.
    content_type = "application/json";
    if (nlohmann::json::accept(request.body)) {
      structured = structuredFromBinary(request);
      payload = structured;
      content_type = "application/cloudevents+json";
    }
  }
  const auto sensor = request.query.find("sensor");
  RawMessage message{sensor == request.query.end() ? std::string_view() : sensor->second, payload,
                     content_type, "http"};
  message.received_ns = clock.nowNs();
  if (request.scope) {
    if (auto refused = outsideScope(message, *request.scope)) return std::move(*refused);
  }
  std::pair<std::string, std::string> event;  // a single CloudEvent's source and id
  if (!request.header("ce-specversion").empty()) {
    event = {std::string(request.header("ce-source")), std::string(request.header("ce-id"))};
  } else if (http::mediaType(content_type) == "application/cloudevents+json") {
    event = structuredIdentity(payload);
  }
  const auto key = IdempotencyKeys::keyOf(request, event.first, event.second);
  if (!key) return error(400, "invalid_idempotency_key", key.error().message);
  std::optional<IdempotencyKeys::Hold> hold;
  if (!key->empty()) {
    auto earlier = keys.begin(request, *key, hold);
    if (!earlier) {
      HttpResponse busy = error(503, "unavailable", earlier.error().str());
      busy.headers["Retry-After"] = "1";
      return busy;
    }
    if (*earlier) return std::move(**earlier);
  }
  if (hold) {
    if (const auto first = hold->firstArrival()) {
      message.received_ns = *first;
      message.redelivered = true;
    }
    if (auto kept = hold->start(*message.received_ns); !kept) {
      HttpResponse busy =
          error(503, "unavailable", "cannot keep the idempotency key: " + kept.error().str());
      busy.headers["Retry-After"] = "1";
      return busy;
    }
  }
  gateway::IngestReport report;
  if (auto status = gateway.ingestRaw(message, &report); !status) {
    HttpResponse busy = error(503, "unavailable", status.error().str());
    busy.headers["Retry-After"] = "1";
    return busy;
  }
  nlohmann::json body{{"accepted", report.accepted}, {"rejected", report.rejected.size()}};
  if (!report.rejected.empty()) body["errors"] = report.rejected;
  if (report.accepted == 0) {
    body["error"] = "invalid_events";
    body["message"] =
        report.rejected.empty() ? "no readings in the request" : report.rejected.front();
  }
  HttpResponse answer{report.accepted == 0 ? 400 : 202,
                      "application/json",
                      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                      {}};
  // Kept before the sync, so the key is durable with the readings it stands for.
  if (hold) {
    if (auto kept = hold->record(answer); !kept) {
      HttpResponse busy = error(
          503, "unavailable",
          "readings accepted but their idempotency key could not be kept: " + kept.error().str());
      busy.headers["Retry-After"] = "1";
      return busy;
    }
  }
  if (report.accepted > 0) {
    if (auto synced = gateway.sync(); !synced) {
      HttpResponse busy = error(503, "unavailable",
                                "readings accepted but not yet durable: " + synced.error().str());
      busy.headers["Retry-After"] = "1";
      return busy;
    }
  }
  return answer;
}

}  // namespace sie::node
