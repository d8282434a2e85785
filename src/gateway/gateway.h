// The edge gateway: every reading that enters the node passes through it.
//
//   decode -> validate -> record raw -> filters -> route -> Downstream::deliver
//
// decode      raw messages only (payload_decoder.h); Ingest::ingest() readings skip it.
// validate    NaN/inf, range, staleness, future per route (first matching route; readings of
//             no route get the NaN check only, or are rejected with `unmatched: reject`), then
//             duplicate / out-of-order timestamps per sensor, which are always rejected (the
//             first reading of a sensor is compared with the newest one in the store).
//             Rejected readings go to the DeadLetterStore (origin "gateway") and stop there;
//             with `onInvalid: flag` they continue with lowered quality and Telemetry::flag.
// record      TimeSeriesStore::append of the raw (validated, unfiltered) reading.
// filters     the route's chain (filter.h). A dropped reading stays recorded, is not routed.
// route       Router targets; with none the reading is only recorded. Otherwise one Event
//             (CloudEvents envelope + telemetry) goes to the Downstream; if it refuses, the
//             reading is dead-lettered.
//
// Per sensor, validate..filters run under one shard lock (sensor_table.h), so concurrent
// sources never interleave a sensor's order check, record and filter state; delivery happens
// after the lock is released.
//
// Return value of ingestRaw/ingest: OK when every reading was accepted or dead-lettered; an
// error only when some reading could be neither (the dead-letter store failed too), so the
// source keeps the message (e.g. leaves it unacknowledged).
//
// Metrics: sie_gateway_received_total{source} (readings; an undecodable payload counts one),
// sie_gateway_rejected_total{reason}, sie_gateway_flagged_total{reason},
// sie_gateway_filtered_total{filter}, sie_gateway_routed_total,
// sie_gateway_stage_seconds{stage=decode|pipeline} (per message, sampled: one message in 16 per
// thread).
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "gateway/decoded.h"
#include "gateway/downstream.h"
#include "gateway/filter.h"
#include "gateway/gateway_config.h"
#include "gateway/router.h"
#include "gateway/sensor_table.h"
#include "gateway/validator.h"
#include "sie/clock.h"
#include "sie/metrics.h"
#include "sie/source.h"
#include "sie/state.h"

namespace sie::gateway {

// What became of the readings of one message, for callers that answer a client (HTTP ingest).
struct IngestReport {
  std::size_t accepted = 0;           // recorded (and routed, unless a filter held them back)
  std::vector<std::string> rejected;  // dead-lettered, with the reason, in payload order
};

class Gateway final : public Ingest {
 public:
  // Every reference must outlive the gateway.
  // `bookmarks` keeps the sources' bookmarks (null: none are kept, as in a test of the gateway
  // alone); `sync` is the stores' durability point (StateStore::sync).
  Gateway(GatewayConfig config, TimeSeriesStore& series, DeadLetterStore& dead_letters,
          KvStore* bookmarks, std::function<Status()> sync, Router& router, Downstream& downstream,
          const Clock& clock);

  Status ingestRaw(const RawMessage& message) override { return ingestRaw(message, nullptr); }
  Status ingestRaw(const RawMessage& message, IngestReport* report);
  Status ingest(Telemetry reading, std::string_view source) override;
  Status reject(const RawMessage& message, std::string_view reason) override;
  Status sync() override { return sync_(); }
  Result<std::optional<std::string>> bookmark(std::string_view source) override;
  Status setBookmark(std::string_view source, std::string_view value) override;

 private:
  struct CompiledRoute {
    TopicPattern match;
    Validator validator;
    std::vector<std::unique_ptr<Filter>> filters;
    std::vector<Counter*> filtered;  // per filter
  };
  struct SourceInfo {
    std::string name;
    std::string uri;  // "sie://<name>"
    Counter* received;
    Gauge* not_good;  // sensors whose newest reading is uncertain or bad
  };
  struct SensorState {
    bool resolved = false;
    const CompiledRoute* route = nullptr;  // null: no route matches
    std::optional<std::int64_t> last_ns;   // newest accepted sample timestamp
    std::vector<std::unique_ptr<FilterState>> filters;
    // While the newest recorded reading is not good: the source whose count holds the sensor.
    const SourceInfo* not_good_in = nullptr;
  };

  const SourceInfo& sourceInfo(std::string_view name);
  // Validates, records, filters and routes one decoded reading.
  // `redelivered`: the reading may already be recorded (RawMessage::redelivered).
  Status process(Telemetry&& reading, const SourceInfo& source, const CloudEventContext* context,
                 std::int64_t ingest_ns, IngestReport* report, bool redelivered = false);
  // Runs under the sensor's shard lock; returns whether the reading passed all filters.
  std::optional<Finding> admit(SensorState& state, Telemetry& reading, const SourceInfo& source,
                               bool redelivered, bool& pass);
  void resolve(SensorState& state, Symbol sensor) const;
  Event makeEvent(Telemetry&& reading, const SourceInfo& source, const CloudEventContext* context,
                  std::int64_t ingest_ns);
  Status deadLetter(std::string_view subject, std::string payload, Finding finding,
                    IngestReport* report = nullptr);

  GatewayConfig config_;
  TimeSeriesStore& series_;
  DeadLetterStore& dead_letters_;
  KvStore* bookmarks_;
  std::function<Status()> sync_;
  Router& router_;
  Downstream& downstream_;
  const Clock& clock_;

  std::vector<CompiledRoute> routes_;
  Validator unmatched_validator_;
  SensorTable<SensorState> sensors_;
  // Ids of events without their own: "<source>-<run>-<n>", where the run token is random per
  // gateway so ids stay unique across restarts and nodes (effects are deduplicated by id).
  const std::string run_token_;
  std::atomic<std::uint64_t> next_event_id_{1};

  std::shared_mutex sources_mu_;
  std::vector<std::unique_ptr<SourceInfo>> sources_;

  std::array<Counter*, kRejectCodeCount> rejected_{};
  std::array<Counter*, kRejectCodeCount> flagged_{};
  Counter& routed_;
  Counter& redelivered_;
  Histogram& decode_seconds_;
  Histogram& pipeline_seconds_;
};

}  // namespace sie::gateway
