#include "adapters/http_ingest/idempotency.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/sha256.h"

namespace sie::node {
namespace {

constexpr std::size_t kMaxKeyLength = 255;
constexpr auto kKeep = std::chrono::hours(24);

std::string digest(std::string_view text) {
  return sha256Hex({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});  // NOLINT
}

// What makes two requests the same request: what the gateway reads from them.
std::string fingerprint(const http::HttpRequest& request) {
  std::string all(request.header("content-type"));
  all += '\0';
  if (auto sensor = request.query.find("sensor"); sensor != request.query.end()) {
    all += sensor->second;
  }
  for (const auto& [name, value] : request.headers) {
    if (!name.starts_with("ce-")) continue;
    all.append(1, '\0').append(name).append(1, ':').append(value);
  }
  all += '\0';
  all += request.body;
  return digest(all);
}

http::HttpResponse answer(int status, std::string_view code, std::string message) {
  return {status,
          "application/json",
          nlohmann::json{{"error", code}, {"message", std::move(message)}}.dump(
              -1, ' ', false, nlohmann::json::error_handler_t::replace),
          {}};
}

}  // namespace

IdempotencyKeys::IdempotencyKeys(KvStore& kv)
    : kv_(kv),
      replayed_(metrics().counter("sie_http_ingest_replayed_total",
                                  "Ingest requests sent again with a key already used: answered "
                                  "as the first time, nothing recorded")) {}

Result<std::string> IdempotencyKeys::keyOf(const http::HttpRequest& request,
                                           std::string_view ce_source, std::string_view ce_id) {
  std::string_view key = request.header("idempotency-key");
  if (key.empty()) {
    if (ce_id.empty()) return std::string();
    return fmt::format("cloudevent\n{}\n{}", ce_source, ce_id);
  }
  if (key.size() >= 2 && key.front() == '"' && key.back() == '"')
    key = key.substr(1, key.size() - 2);
  const bool visible =
      std::all_of(key.begin(), key.end(), [](char c) { return c > ' ' && c < 127; });
  if (key.empty() || key.size() > kMaxKeyLength || !visible) {
    return fail(Errc::kInvalidArgument,
                fmt::format("Idempotency-Key must be 1 to {} visible ASCII characters, bare or in "
                            "double quotes (got {} bytes); a UUID is a good key",
                            kMaxKeyLength, key.size()));
  }
  return fmt::format("header\n{}", key);
}

Result<std::optional<http::HttpResponse>> IdempotencyKeys::begin(const http::HttpRequest& request,
                                                                 const std::string& key,
                                                                 std::optional<Hold>& hold) {
  // Per caller: one client's keys cannot shadow another's.
  const std::string id = "source/http/requests/" + digest(request.caller + '\0' + key);
  {
    std::lock_guard lock(mu_);
    if (!in_flight_.insert(id).second) {
      return answer(409, "conflict",
                    "a request with this idempotency key is still being processed; send it "
                    "again once that one is answered");
    }
  }
  Hold held(this, id, fingerprint(request));
  const auto stored = SIE_TRY(kv_.get(id));
  if (!stored) {
    hold.emplace(std::move(held));
    return std::optional<http::HttpResponse>();
  }
  const auto record = nlohmann::json::parse(*stored, nullptr, false);
  if (!record.is_object() || !record.contains("fingerprint") ||
      !record["fingerprint"].is_string()) {
    hold.emplace(std::move(held));  // not ours to read: taken as unused
    return std::optional<http::HttpResponse>();
  }
  if (record["fingerprint"] != held.fingerprint_) {
    return answer(422, "idempotency_key_reused",
                  "this idempotency key was first used with another request (body, content type, "
                  "sensor or CloudEvent attributes); a new request needs a new key");
  }
  const bool answered = record.contains("status") && record["status"].is_number_integer() &&
                        record.contains("body") && record["body"].is_string();
  if (!answered) {  // the node went down while taking it: taken again, at its first arrival time
    if (record.contains("received_ns") && record["received_ns"].is_number_integer()) {
      held.first_received_ns_ = record["received_ns"].get<std::int64_t>();
    }
    hold.emplace(std::move(held));
    return std::optional<http::HttpResponse>();
  }
  replayed_.inc();
  http::HttpResponse replay{
      record["status"].get<int>(), "application/json", record["body"].get<std::string>(), {}};
  replay.headers["Idempotent-Replayed"] = "true";
  return replay;
}

void IdempotencyKeys::release(const std::string& id) {
  std::lock_guard lock(mu_);
  in_flight_.erase(id);
}

IdempotencyKeys::Hold::Hold(Hold&& other) noexcept
    : keys_(std::exchange(other.keys_, nullptr)),
      id_(std::move(other.id_)),
      fingerprint_(std::move(other.fingerprint_)),
      first_received_ns_(other.first_received_ns_),
      received_ns_(other.received_ns_) {}

IdempotencyKeys::Hold::~Hold() {
  if (keys_) keys_->release(id_);
}

Status IdempotencyKeys::Hold::start(std::int64_t received_ns) {
  received_ns_ = first_received_ns_.value_or(received_ns);
  return put(nlohmann::json{{"fingerprint", fingerprint_}, {"received_ns", received_ns_}});
}

Status IdempotencyKeys::Hold::record(const http::HttpResponse& answer) {
  return put(nlohmann::json{{"fingerprint", fingerprint_},
                            {"received_ns", received_ns_},
                            {"status", answer.status},
                            {"body", answer.body}});
}

Status IdempotencyKeys::Hold::put(const nlohmann::json& record) {
  return keys_->kv_.put(id_, record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                        std::chrono::duration_cast<std::chrono::milliseconds>(kKeep));
}

}  // namespace sie::node
