#include "gateway/gateway.h"

#include <charconv>
#include <cmath>
#include <mutex>
#include <random>

#include <fmt/format.h>

#include "gateway/payload_decoder.h"
#include "gateway/telemetry_json.h"

namespace sie::gateway {
namespace {

// Dead letters of oversize payloads keep only this much of the payload.
constexpr std::size_t kOversizeKeptBytes = 1024;

// Stage timings are sampled: two extra clock reads and histogram updates per message cost
// about a tenth of the hot path.
constexpr std::uint32_t kTimingSampleMask = 15;  // one message in 16, per thread

bool sampleTiming() {
  thread_local std::uint32_t tick = 0;
  return (++tick & kTimingSampleMask) == 0;
}

double secondsBetween(std::int64_t from_ns, std::int64_t to_ns) {
  return static_cast<double>(to_ns - from_ns) / 1e9;
}

// Decoded items of one message; a per-thread vector is borrowed so steady state allocates
// nothing here. A nested ingestRaw on the same thread (a downstream feeding back) finds the
// slot empty and uses a fresh vector.
class ScratchItems {
 public:
  ScratchItems() : items_(std::move(slot())) { items_.clear(); }
  ~ScratchItems() {
    items_.clear();
    slot() = std::move(items_);
  }
  ScratchItems(const ScratchItems&) = delete;
  ScratchItems& operator=(const ScratchItems&) = delete;
  std::vector<Decoded>& get() { return items_; }

 private:
  static std::vector<Decoded>& slot() {
    thread_local std::vector<Decoded> items;
    return items;
  }
  std::vector<Decoded> items_;
};

}  // namespace

Gateway::Gateway(GatewayConfig config, TimeSeriesStore& series, DeadLetterStore& dead_letters,
                 KvStore* bookmarks, std::function<Status()> sync, Router& router,
                 Downstream& downstream, const Clock& clock)
    : config_(std::move(config)),
      series_(series),
      dead_letters_(dead_letters),
      bookmarks_(bookmarks),
      sync_(std::move(sync)),
      router_(router),
      downstream_(downstream),
      clock_(clock),
      unmatched_validator_(ValidationSpec{}, clock),
      run_token_(fmt::format("{:08x}", std::random_device{}())),
      routed_(metrics().counter("sie_gateway_routed_total",
                                "Readings the gateway handed to the downstream")),
      redelivered_(metrics().counter("sie_gateway_redelivered_total",
                                     "Readings of a redelivered message that were already "
                                     "recorded (skipped)")),
      decode_seconds_(metrics().histogram("sie_gateway_stage_seconds",
                                          "Time per message in a gateway stage",
                                          {{"stage", "decode"}})),
      pipeline_seconds_(metrics().histogram("sie_gateway_stage_seconds",
                                            "Time per message in a gateway stage",
                                            {{"stage", "pipeline"}})) {
  routes_.reserve(config_.routes.size());
  for (const RouteSpec& spec : config_.routes) {
    CompiledRoute& route =
        routes_.emplace_back(CompiledRoute{spec.match, Validator(spec.validate, clock_), {}, {}});
    for (const FilterSpec& filter : spec.filters) {
      route.filters.push_back(makeFilter(filter));
      route.filtered.push_back(&metrics().counter(
          "sie_gateway_filtered_total", "Readings a gateway filter kept from routing",
          {{"filter", std::string(route.filters.back()->name())}}));
    }
  }
  for (std::size_t i = 0; i < kRejectCodeCount; ++i) {
    const auto code = static_cast<RejectCode>(i);
    const Labels labels{{"reason", std::string(rejectCodeName(code))}};
    rejected_[i] = &metrics().counter("sie_gateway_rejected_total",
                                      "Readings the gateway dead-lettered, by reason", labels);
    if (code == RejectCode::kNan || code == RejectCode::kRange || code == RejectCode::kStale ||
        code == RejectCode::kFuture) {
      flagged_[i] = &metrics().counter("sie_gateway_flagged_total",
                                       "Invalid readings passed on with lowered quality", labels);
    }
  }
}

Status Gateway::ingestRaw(const RawMessage& message, IngestReport* report) {
  const std::int64_t start_ns = clock_.monotonicNs();
  const SourceInfo& source = sourceInfo(message.source);
  if (message.payload.size() > config_.max_payload_bytes) {
    source.received->inc();
    return deadLetter(
        message.topic, std::string(message.payload.substr(0, kOversizeKeptBytes)),
        {RejectCode::kOversize, fmt::format("payload of {} bytes exceeds the {}-byte limit",
                                            message.payload.size(), config_.max_payload_bytes)},
        report);
  }
  const bool timed = sampleTiming();
  ScratchItems scratch;
  std::vector<Decoded>& items = scratch.get();
  const Status decoded = decodePayload(message, items);
  const std::int64_t decoded_ns = timed ? clock_.monotonicNs() : 0;
  if (timed) decode_seconds_.observe(secondsBetween(start_ns, decoded_ns));
  if (!decoded) {
    source.received->inc();
    return deadLetter(message.topic, std::string(message.payload),
                      {RejectCode::kParse, decoded.error().message}, report);
  }
  source.received->inc(items.size());
  Status result = ok();
  for (Decoded& item : items) {
    if (message.tags && !item.error) {
      item.reading.tags.insert(item.reading.tags.begin(), message.tags->begin(),
                               message.tags->end());
    }
    Status status =
        item.error
            ? deadLetter(message.topic,
                         item.raw.empty() ? std::string(message.payload) : std::move(item.raw),
                         {RejectCode::kParse, std::move(item.error->message)}, report)
            : process(std::move(item.reading), source,
                      item.cloud_event ? &*item.cloud_event : nullptr, start_ns, report,
                      message.redelivered);
    if (!status && result) result = std::move(status);
  }
  if (timed) pipeline_seconds_.observe(secondsBetween(decoded_ns, clock_.monotonicNs()));
  return result;
}

Status Gateway::reject(const RawMessage& message, std::string_view reason) {
  sourceInfo(message.source).received->inc();
  const std::string_view kept = message.payload.substr(0, config_.max_payload_bytes);
  return deadLetter(message.topic, std::string(kept), {RejectCode::kParse, std::string(reason)});
}

Status Gateway::ingest(Telemetry reading, std::string_view source_name) {
  const std::int64_t start_ns = clock_.monotonicNs();
  const SourceInfo& source = sourceInfo(source_name);
  source.received->inc();
  Status result = ok();
  if (auto shape = checkTelemetryShape(reading); !shape) {
    result = deadLetter(reading.sensor.str(), renderTelemetryJson(reading),
                        {RejectCode::kParse, shape.error().message});
  } else {
    result = process(std::move(reading), source, nullptr, start_ns, nullptr);
  }
  if (sampleTiming()) pipeline_seconds_.observe(secondsBetween(start_ns, clock_.monotonicNs()));
  return result;
}

Status Gateway::process(Telemetry&& reading, const SourceInfo& source,
                        const CloudEventContext* context, std::int64_t ingest_ns,
                        IngestReport* report, bool redelivered) {
  bool pass = false;
  std::optional<Finding> rejection = sensors_.with(reading.sensor, [&](SensorState& state) {
    return admit(state, reading, source, redelivered, pass);
  });
  if (rejection) {
    return deadLetter(reading.sensor.str(), renderTelemetryJson(reading), std::move(*rejection),
                      report);
  }
  if (report) ++report->accepted;  // recorded; a refused delivery below takes it back
  if (!pass) return ok();
  const Router::Targets targets = router_.route(reading.sensor);
  if (targets->empty()) return ok();
  Event event = makeEvent(std::move(reading), source, context, ingest_ns);
  Status delivered = downstream_.deliver(std::move(event), *targets);
  if (delivered) {
    routed_.inc();
    return ok();
  }
  if (report) --report->accepted;
  // Refused: by contract deliver() left the event untouched.
  // NOLINTNEXTLINE(bugprone-use-after-move)
  return deadLetter(event.subject, renderTelemetryJson(*event.telemetry),
                    {RejectCode::kDownstream,
                     fmt::format("downstream refused the event: {}", delivered.error().str())},
                    report);
}

std::optional<Finding> Gateway::admit(SensorState& state, Telemetry& reading,
                                      const SourceInfo& source, bool redelivered, bool& pass) {
  if (!state.resolved) resolve(state, reading.sensor);
  // Recorded the first time (a sensor's readings become durable in order): nothing to do.
  if (redelivered && checkOrder(reading, state.last_ns)) {
    redelivered_.inc();
    return std::nullopt;
  }
  const CompiledRoute* route = state.route;
  if (!route && config_.reject_unmatched) {
    return Finding{RejectCode::kUnknownSensor,
                   fmt::format("unknown sensor '{}': no route matches", reading.sensor.str())};
  }
  const Validator& validator = route ? route->validator : unmatched_validator_;
  if (auto finding = validator.check(reading)) {
    if (validator.spec().on_invalid == OnInvalid::kReject) return finding;
    flagged_[static_cast<std::size_t>(finding->code)]->inc();
    flagReading(reading, std::move(*finding));
  }
  if (auto finding = checkOrder(reading, state.last_ns)) return finding;
  if (auto recorded = series_.append(reading); !recorded) {
    return Finding{RejectCode::kStore, fmt::format("time-series store refused the reading: {}",
                                                   recorded.error().str())};
  }
  state.last_ns = newestSampleNs(reading);
  if (reading.quality != Quality::kGood && state.not_good_in == nullptr) {
    state.not_good_in = &source;
    source.not_good->add(1);
  } else if (reading.quality == Quality::kGood && state.not_good_in != nullptr) {
    state.not_good_in->not_good->add(-1);
    state.not_good_in = nullptr;
  }

  pass = true;
  if (!route || reading.values.size() != 1 || !std::isfinite(reading.values.front())) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < route->filters.size(); ++i) {
    if (route->filters[i]->apply(*state.filters[i], reading) == Filter::Verdict::kDrop) {
      route->filtered[i]->inc();
      pass = false;
      break;
    }
  }
  return std::nullopt;
}

void Gateway::resolve(SensorState& state, Symbol sensor) const {
  state.resolved = true;
  // The newest stored reading continues the order check across restarts, so a message the
  // broker delivers again after a crash is recognised instead of being recorded twice.
  if (auto newest = series_.lastN(sensor, 1); newest && !newest->empty()) {
    state.last_ns = newest->back().ts_ns;
  }
  const std::string_view id = sensor.str();
  for (const CompiledRoute& route : routes_) {
    if (!route.match.matches(id)) continue;
    state.route = &route;
    for (const auto& filter : route.filters) state.filters.push_back(filter->newState());
    return;
  }
}

Event Gateway::makeEvent(Telemetry&& reading, const SourceInfo& source,
                         const CloudEventContext* context, std::int64_t ingest_ns) {
  Event event;
  if (context) {
    event.id = context->id;
    event.source = context->source;
    event.type = context->type;
    event.datacontenttype = context->datacontenttype;
  } else {
    const std::uint64_t n = next_event_id_.fetch_add(1, std::memory_order_relaxed);
    char digits[20];
    const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
    event.id.reserve(source.name.size() + run_token_.size() + 2 +
                     static_cast<std::size_t>(end - digits));
    event.id.append(source.name)
        .append(1, '-')
        .append(run_token_)
        .append(1, '-')
        .append(digits, end);
    event.source = source.uri;
    event.type = kTelemetryType;
  }
  event.subject = reading.sensor.str();
  event.time_ns = reading.ts_ns;
  event.ingest_ns = ingest_ns;
  event.telemetry = std::move(reading);
  return event;
}

Status Gateway::deadLetter(std::string_view subject, std::string payload, Finding finding,
                           IngestReport* report) {
  rejected_[static_cast<std::size_t>(finding.code)]->inc();
  if (report) report->rejected.push_back(finding.reason);
  DeadLetter letter;
  letter.ts_ns = clock_.nowNs();
  letter.origin = "gateway";
  letter.reason = std::move(finding.reason);
  letter.subject = std::string(subject);
  letter.payload = std::move(payload);
  std::string reason = letter.reason;
  if (auto stored = dead_letters_.put(std::move(letter)); !stored) {
    return fail(
        stored.error().code,
        fmt::format("reading neither accepted nor dead-lettered ({}): dead-letter store: {}",
                    reason, stored.error().str()));
  }
  return ok();
}

// In the KV store beside functions' keys; "source/" is the node's own prefix there.
Result<std::optional<std::string>> Gateway::bookmark(std::string_view source) {
  if (bookmarks_ == nullptr) return std::optional<std::string>();
  return bookmarks_->get(fmt::format("source/{}/bookmark", source));
}

Status Gateway::setBookmark(std::string_view source, std::string_view value) {
  if (bookmarks_ == nullptr) return ok();
  return bookmarks_->put(fmt::format("source/{}/bookmark", source), value);
}

const Gateway::SourceInfo& Gateway::sourceInfo(std::string_view name) {
  {
    std::shared_lock lock(sources_mu_);
    for (const auto& source : sources_) {
      if (source->name == name) return *source;
    }
  }
  std::unique_lock lock(sources_mu_);
  for (const auto& source : sources_) {
    if (source->name == name) return *source;
  }
  auto& counter = metrics().counter("sie_gateway_received_total",
                                    "Readings that reached the gateway, by source",
                                    {{"source", std::string(name)}});
  auto& not_good = metrics().gauge(
      "sie_sensors_not_good",
      "Sensors whose newest reading is not of good quality (stale, flagged, device down), by the "
      "source that delivered it",
      {{"source", std::string(name)}});
  sources_.push_back(std::make_unique<SourceInfo>(
      SourceInfo{std::string(name), fmt::format("sie://{}", name), &counter, &not_good}));
  return *sources_.back();
}

}  // namespace sie::gateway
