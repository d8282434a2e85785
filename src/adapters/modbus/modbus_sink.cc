#include "adapters/modbus/modbus_sink.h"
#include "core/json_text.h"
#include "core/log.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace sie::modbus {

ModbusSink::ModbusSink(std::string name, WriteOptions options, const Clock& clock)
    : name_(std::move(name)),
      options_(std::move(options)),
      clock_(clock),
      device_(options_.device),
      writes_(metrics().counter("sie_modbus_writes_total", "Verified Modbus writes",
                                {{"sink", name_}})),
      skipped_(metrics().counter("sie_modbus_writes_skipped_total",
                                 "Decisions that asked for the value just written (minInterval)",
                                 {{"sink", name_}})),
      failures_(metrics().counter("sie_modbus_write_failures_total",
                                  "Modbus writes that failed or read back wrong (dead-lettered)",
                                  {{"sink", name_}})) {}

ModbusSink::~ModbusSink() { stop(); }

Status ModbusSink::start(const SinkContext& context) {
  bus_ = &context.bus;
  dead_letters_ = &context.dead_letters;
  audit_ = &context.audit;
  thread_ = std::thread([this] { run(); });
  for (const auto& pattern : options_.subscribe) {
    subscriptions_.push_back(bus_->subscribe(
        pattern, [this](std::string_view /*topic*/, const Event& event) { onDecision(event); }));
  }
  return ok();
}

void ModbusSink::stop() {
  if (!bus_) return;
  for (const auto id : subscriptions_) bus_->unsubscribe(id);
  subscriptions_.clear();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;  // the thread finishes what is queued first
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  device_.close();
  bus_ = nullptr;
}

void ModbusSink::onDecision(const Event& event) {
  if (options_.when != WriteOptions::When::kAlways) {
    const auto data = parseJsonOrDiscarded(event.data);
    const auto anomaly = data.is_object() ? data.find("anomaly") : data.end();
    if (!data.is_object() || anomaly == data.end() || !anomaly->is_boolean()) return;
    if (anomaly->get<bool>() != (options_.when == WriteOptions::When::kAnomaly)) return;
  }
  std::unique_lock lock(mu_);
  if (queue_.size() >= options_.max_queued) {
    lock.unlock();
    failures_.inc();
    DeadLetter letter{0,
                      clock_.nowNs(),
                      "sink:" + name_,
                      fmt::format("{} writes already wait for the device", options_.max_queued),
                      event.subject,
                      event.data};
    if (auto stored = dead_letters_->put(std::move(letter)); !stored) {
      Log("sink", name_).error("{}", stored.error().str());
    }
    return;
  }
  queue_.push_back(Trigger{event.subject, event.data});
  lock.unlock();
  wake_.notify_one();
}

void ModbusSink::run() {
  while (true) {
    Trigger trigger;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      trigger = std::move(queue_.front());
      queue_.pop_front();
    }
    actuate(trigger);
  }
}

Result<std::optional<double>> ModbusSink::writeVerified() {
  Status written = device_.write(options_.point, options_.value);
  for (int retry = 0;
       !written && written.error().code != Errc::kInvalidArgument && retry < options_.retries;
       ++retry) {
    written = device_.write(options_.point, options_.value);  // on a fresh connection
  }
  SIE_CHECK(written);
  if (!options_.verify) return std::optional<double>();
  const double back = SIE_TRY(device_.read(options_.point));
  const double tolerance = 1e-6 * std::max(1.0, std::fabs(options_.value));
  if (std::fabs(back - options_.value) > tolerance) {
    return fail(Errc::kCorrupt,
                fmt::format("read back {} after writing {} to {} {}", back, options_.value,
                            tableName(options_.point.table), options_.point.address));
  }
  return std::optional<double>(back);
}

void ModbusSink::actuate(const Trigger& trigger) {
  const auto now = std::chrono::steady_clock::now();
  if (last_write_ && now - *last_write_ < options_.min_interval) {
    skipped_.inc();
    return;
  }
  auto result = writeVerified();
  if (result) {
    last_write_ = now;
    writes_.inc();
    Log("sink", name_)
        .info("wrote {} to {} {} (unit {}) for {}{}", options_.value,
              tableName(options_.point.table), options_.point.address, options_.point.unit_id,
              trigger.subject, *result ? ", verified" : "");
    audit(trigger, *result ? "written and verified" : "written", "");
    return;
  }
  failures_.inc();
  const std::string reason = result.error().message;
  Log("sink", name_).error("actuation for {} failed: {}", trigger.subject, reason);
  audit(trigger, "failed", reason);
  DeadLetter letter{0, clock_.nowNs(), "sink:" + name_, reason, trigger.subject, trigger.decision};
  if (auto stored = dead_letters_->put(std::move(letter)); !stored) {
    Log("sink", name_).error("{}", stored.error().str());
  }
}

void ModbusSink::audit(const Trigger& trigger, std::string_view outcome,
                       const std::string& detail) {
  nlohmann::json body{{"sink", name_},
                      {"device", fmt::format("{}:{}", options_.device.host, options_.device.port)},
                      {"unit", options_.point.unit_id},
                      {"table", tableName(options_.point.table)},
                      {"address", options_.point.address},
                      {"value", options_.value},
                      {"outcome", outcome},
                      {"subject", trigger.subject}};
  if (!detail.empty()) body["error"] = detail;
  const auto decision = parseJsonOrDiscarded(trigger.decision);
  if (!decision.is_discarded()) body["decision"] = decision;
  if (auto appended =
          audit_->append("action", "sink:" + name_,
                         body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      !appended) {
    Log("sink", name_).error("audit: {}", appended.error().str());
  }
}

}  // namespace sie::modbus
