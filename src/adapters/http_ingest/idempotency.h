// Idempotent HTTP ingest: a client that sends a request again (its answer was lost, it timed
// out) must not get its readings recorded twice, and readings stamped on arrival cannot be told
// apart by their content. A request names itself with an Idempotency-Key header (the IETF
// httpapi draft's; a bare or quoted string of 1 to 255 visible ASCII characters), or, when it
// carries a single CloudEvent, by the event's source and id (CloudEvents 1.0: consumers may take
// events with the same source and id for duplicates). Keys are per caller and kept for 24 hours
// in the state's KV store, written before the readings are handed over (so they are never durable
// without it) and again with the answer before the sync; it survives a restart. A request taken
// but not answered before the node went down is taken again at its first arrival time, marked as
// a redelivery, so the gateway records only what was lost.
//
// A repeated request gets the first answer again (header Idempotent-Replayed: true) and records
// nothing; the same key with another body is refused (422); the same key while the first request
// is still being processed is refused (409).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "http/http_server.h"
#include "sie/metrics.h"
#include "sie/result.h"
#include "sie/state.h"

namespace sie::node {

class IdempotencyKeys {
 public:
  explicit IdempotencyKeys(KvStore& kv);

  // A request's key as it sent it: the Idempotency-Key header, else a single CloudEvent's
  // source and id (`ce_source`, `ce_id`: "" when it carries none); "" when it has none. A
  // malformed header is an error that says what a key must look like.
  static Result<std::string> keyOf(const http::HttpRequest& request, std::string_view ce_source,
                                   std::string_view ce_id);

  // While a request holds its key: the record written with its answer.
  class Hold {
   public:
    Hold(Hold&& other) noexcept;
    Hold& operator=(Hold&&) = delete;
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold();
    // A request the node took before and did not answer (it went down meanwhile): its readings
    // are handed over again, marked as a redelivery, with this arrival time.
    [[nodiscard]] std::optional<std::int64_t> firstArrival() const { return first_received_ns_; }
    // Keeps the key before any reading is handed over (so readings are never durable without
    // it), with the arrival time they are stamped with; then, before the sync, the answer.
    Status start(std::int64_t received_ns);
    Status record(const http::HttpResponse& answer);

   private:
    friend class IdempotencyKeys;
    Hold(IdempotencyKeys* keys, std::string id, std::string fingerprint)
        : keys_(keys), id_(std::move(id)), fingerprint_(std::move(fingerprint)) {}
    Status put(const nlohmann::json& record);
    IdempotencyKeys* keys_;
    std::string id_;  // the KV key
    std::string fingerprint_;
    std::optional<std::int64_t> first_received_ns_;
    std::int64_t received_ns_ = 0;
  };

  // The answer for a key already used (a replay, 409 or 422), or the key held by this request.
  // Errors are the KV store's.
  Result<std::optional<http::HttpResponse>> begin(const http::HttpRequest& request,
                                                  const std::string& key,
                                                  std::optional<Hold>& hold);

 private:
  void release(const std::string& id);

  KvStore& kv_;
  std::mutex mu_;
  std::set<std::string> in_flight_;  // KV keys of requests being processed
  Counter& replayed_;
};

}  // namespace sie::node
