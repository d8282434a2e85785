// Idempotent HTTP ingest: a client that sends a request again (its answer was lost, it timed
// out) must not get its readings recorded twice, and readings stamped on arrival cannot be told
// apart by their content. A request names itself with an Idempotency-Key header (the IETF
// httpapi draft's; a bare or quoted string of 1 to 255 visible ASCII characters), or, when it
// carries a single CloudEvent, by the event's source and id (CloudEvents 1.0: consumers may take
// events with the same source and id for duplicates). Keys are per caller and kept for 24 hours
// in the state's KV store, written before the readings are synced, so a key is durable no
// earlier than what it stands for, and survives a restart.
//
// A repeated request gets the first answer again (header Idempotent-Replayed: true) and records
// nothing; the same key with another body is refused (422); the same key while the first request
// is still being processed is refused (409).
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

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
    // Keeps the answer for repeats of the request (before the readings are synced).
    Status record(const http::HttpResponse& answer);

   private:
    friend class IdempotencyKeys;
    Hold(IdempotencyKeys* keys, std::string id, std::string fingerprint)
        : keys_(keys), id_(std::move(id)), fingerprint_(std::move(fingerprint)) {}
    IdempotencyKeys* keys_;
    std::string id_;  // the KV key
    std::string fingerprint_;
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
