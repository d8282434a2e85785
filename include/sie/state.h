// State layer contracts. Functions keep no state of their own: windows, thresholds and setpoints
// live here, behind these interfaces, so any instance can be killed or moved. Backends: embedded
// (in-memory + SQLite WAL) now, Redis later; one contract test suite covers every backend.
//
// All methods are thread-safe. Writes are batched: a write is *accepted* when the call returns and
// *durable* once a later sync() returns (or the backend's batch interval elapses).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "sie/event.h"
#include "sie/result.h"

namespace sie {

// One stored reading (a block of samples keeps its values together).
struct Sample {
  std::int64_t ts_ns = 0;
  // Most readings are one value: kept inline, so a window of N samples is one allocation, not N+1.
  boost::container::small_vector<double, 1> values;
  Quality quality = Quality::kGood;
  // Why quality is not good (Telemetry::flag); null when the reading carried no reason. Shared,
  // so a window of mostly good readings copies no text.
  std::shared_ptr<const std::string> flag;

  static Sample of(const Telemetry& reading) {
    return {reading.ts_ns,
            {reading.values.begin(), reading.values.end()},
            reading.quality,
            flagOf(reading.flag)};
  }
  static std::shared_ptr<const std::string> flagOf(std::string_view flag) {
    return flag.empty() ? nullptr : std::make_shared<const std::string>(flag);
  }
  [[nodiscard]] std::span<const double> view() const { return {values.data(), values.size()}; }
};

class TimeSeriesStore {
 public:
  virtual ~TimeSeriesStore() = default;
  virtual Status append(const Telemetry& reading) = 0;
  // Readings with from_ns <= ts_ns < to_ns, oldest first, at most `limit`.
  virtual Result<std::vector<Sample>> range(Symbol sensor, std::int64_t from_ns, std::int64_t to_ns,
                                            std::size_t limit) = 0;
  // The newest `n` readings with ts_ns <= until_ns, oldest first (fewer when fewer exist): a
  // window as of a moment, whatever was recorded after it.
  virtual Result<std::vector<Sample>> lastUntil(Symbol sensor, std::int64_t until_ns,
                                                std::size_t n) = 0;
  // The newest `n` readings, oldest first.
  Result<std::vector<Sample>> lastN(Symbol sensor, std::size_t n) {
    return lastUntil(sensor, std::numeric_limits<std::int64_t>::max(), n);
  }
};

class KvStore {
 public:
  virtual ~KvStore() = default;
  virtual Result<std::optional<std::string>> get(std::string_view key) = 0;
  // ttl == 0: never expires; at most kMaxDuration (sie/config.h), else Errc::kInvalidArgument.
  virtual Status put(std::string_view key, std::string_view value,
                     std::chrono::milliseconds ttl = std::chrono::milliseconds{0}) = 0;
  // Writes `value` only when the current value equals `expected` (nullopt: key absent).
  // Returns whether the write happened.
  virtual Result<bool> compareAndSet(std::string_view key, std::optional<std::string_view> expected,
                                     std::string_view value,
                                     std::chrono::milliseconds ttl = std::chrono::milliseconds{
                                         0}) = 0;
  virtual Status erase(std::string_view key) = 0;
};

// An event the node accepted but could not process, with the reason. Never silently dropped.
struct DeadLetter {
  std::int64_t id = 0;  // assigned by the store
  std::int64_t ts_ns = 0;
  std::string origin;   // "gateway", "dispatcher", "function:pump-health@1"
  std::string reason;   // "value out of range [0, 1000]: 1200.5"
  std::string subject;  // sensor id or topic
  std::string payload;  // the original bytes, or a JSON rendering of the decoded event
};

class DeadLetterStore {
 public:
  virtual ~DeadLetterStore() = default;
  virtual Status put(DeadLetter letter) = 0;
  virtual Result<std::vector<DeadLetter>> list(std::size_t limit) = 0;  // newest first
  virtual Result<std::int64_t> count() = 0;
};

// One record of the tamper-evident audit chain.
struct AuditRecord {
  std::int64_t seq = 0;  // 1, 2, 3, ... assigned by the log
  std::int64_t ts_ns = 0;
  std::string kind;       // "decision", "action", "lifecycle"
  std::string subject;    // "pump-health@1", sensor id, ...
  std::string body;       // JSON document
  std::string prev_hash;  // hex SHA-256 of the previous record ("" for seq 1... see audit_chain.h)
  std::string hash;       // hex SHA-256 over prev_hash and this record's fields
};

struct AuditVerifyReport {
  bool ok = true;
  std::int64_t records = 0;        // records checked
  std::int64_t first_bad_seq = 0;  // 0 when ok
  std::string problem;             // "record 17: hash mismatch (altered)"
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Appends a record (seq, prev_hash, hash are filled in). Returns its seq.
  virtual Result<std::int64_t> append(std::string_view kind, std::string_view subject,
                                      std::string_view body) = 0;
  virtual Result<std::vector<AuditRecord>> tail(std::size_t n) = 0;
  virtual Result<AuditVerifyReport> verify() = 0;
};

// A state backend: one of each store, sharing one durability point. A KV write is durable no
// later than the readings accepted after it (a source's bookmark, written before the readings it
// covers, is durable whenever they are).
class StateStore {
 public:
  virtual ~StateStore() = default;
  virtual TimeSeriesStore& timeSeries() = 0;
  virtual KvStore& kv() = 0;
  virtual DeadLetterStore& deadLetters() = 0;
  virtual AuditLog& audit() = 0;
  // Blocks until every write accepted before the call is durable.
  virtual Status sync() = 0;
  // Flushes and releases the backend; further calls fail.
  virtual Status close() = 0;
};

}  // namespace sie
