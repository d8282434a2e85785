#include "adapters/modbus/modbus_source.h"
#include "core/log.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace sie::modbus {

ModbusSource::ModbusSource(std::string name, SourceOptions options, const Clock& clock)
    : name_(std::move(name)),
      options_(std::move(options)),
      clock_(clock),
      device_(options_.device),
      backoff_(options_.device.reconnect_min, options_.device.reconnect_max),
      reads_(
          metrics().counter("sie_modbus_reads_total", "Modbus points read", {{"source", name_}})),
      exceptions_(metrics().counter("sie_modbus_errors_total", "Modbus failures by kind",
                                    {{"source", name_}, {"kind", "exception"}})),
      timeouts_(metrics().counter("sie_modbus_errors_total", "Modbus failures by kind",
                                  {{"source", name_}, {"kind", "no_answer"}})),
      refused_(metrics().counter("sie_modbus_errors_total", "Modbus failures by kind",
                                 {{"source", name_}, {"kind", "ingest_refused"}})),
      device_up_(metrics().gauge("sie_modbus_device_up", "1 while the Modbus device answers",
                                 {{"source", name_}})) {}

ModbusSource::~ModbusSource() { stop(); }

Status ModbusSource::start(Ingest& sink) {
  sink_ = &sink;
  state_.assign(options_.points.size(), Polled{std::chrono::steady_clock::now(), std::nullopt, 0});
  thread_ = std::thread([this] { run(); });
  return ok();
}

void ModbusSource::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ModbusSource::waitFor(std::chrono::steady_clock::duration delay) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, delay, [&] { return stopping_; });
}

void ModbusSource::run() {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    if (!device_.connected()) {
      if (auto connected = device_.connect(); !connected) {
        timeouts_.inc();
        if (up_ || backoff_.attempts() % 20 == 0) {
          Log("source", name_).warn("{} (retrying with backoff)", connected.error().message);
        }
        markStale(connected.error().message);
        waitFor(backoff_.next());
        continue;
      }
      Log("source", name_).info("connected to {}:{}", options_.device.host, options_.device.port);
    }
    if (!pollDue(std::chrono::steady_clock::now())) {
      waitFor(backoff_.next());
      continue;
    }
    if (!up_) {
      up_ = true;
      device_up_.set(1);
    }
    backoff_.reset();
    const auto next =
        std::min_element(state_.begin(), state_.end(),
                         [](const Polled& a, const Polled& b) { return a.due < b.due; });
    if (next != state_.end())
      waitFor(next->due - std::chrono::steady_clock::now());
    else
      waitFor(std::chrono::seconds(1));
  }
  device_.close();
  device_up_.set(0);
}

bool ModbusSource::pollDue(std::chrono::steady_clock::time_point now) {
  std::vector<std::size_t> due;
  std::vector<const Point*> points;
  for (std::size_t i = 0; i < options_.points.size(); ++i) {
    Polled& polled = state_[i];
    if (polled.due > now) continue;
    // Keep the cadence, but never fire a backlog of missed polls.
    polled.due = std::max(polled.due + options_.points[i].interval, now);
    due.push_back(i);
    points.push_back(&options_.points[i].point);
  }
  for (const ReadBlock& block : planReads(points)) {
    auto words = device_.read(block);
    if (!words && words.error().code == Errc::kInvalidArgument && block.points.size() > 1) {
      // The device refused the block (an address it does not map): each point on its own, so
      // one bad address does not hide its neighbours.
      for (const std::size_t k : block.points) {
        if (!pollPoint(due[k])) return false;
      }
      continue;
    }
    if (!words) {
      if (!failed(due[block.points.front()], words.error())) return false;
      continue;
    }
    for (const std::size_t k : block.points) {
      const Point& point = *points[k];
      const auto offset = static_cast<std::size_t>(point.address - block.start);
      accept(due[k],
             decodeRegisters(point, std::span<const std::uint16_t>(*words).subspan(
                                        offset, static_cast<std::size_t>(point.registers()))));
    }
  }
  return true;
}

bool ModbusSource::pollPoint(std::size_t i) {
  auto value = device_.read(options_.points[i].point);
  if (!value) return failed(i, value.error());
  accept(i, *value);
  return true;
}

bool ModbusSource::failed(std::size_t i, const Error& error) {
  if (error.code == Errc::kInvalidArgument) {  // the device answered: an exception
    exceptions_.inc();
    Polled& polled = state_[i];
    if (polled.exceptions++ % 100 == 0) {
      Log("source", name_)
          .warn("{} (sensor {}; {} so far)", error.message, options_.points[i].sensor,
                polled.exceptions);
    }
    if (!polled.refused) {
      // The sensor turns bad once, with the device's reason, until a read succeeds again; the
      // value is its last one, or none (NaN) when it was never read.
      polled.refused = true;
      Telemetry reading;
      reading.sensor = Symbol::intern(options_.points[i].sensor);
      reading.ts_ns = clock_.nowNs();
      reading.values.assign(1, polled.last.value_or(std::numeric_limits<double>::quiet_NaN()));
      reading.quality = Quality::kBad;
      reading.flag = "device refused the read: " + error.message;
      if (!sink_->ingest(std::move(reading), name_)) refused_.inc();
    }
    return true;
  }
  timeouts_.inc();
  Log("source", name_).warn("{} (device marked down)", error.message);
  markStale(error.message);
  return false;
}

void ModbusSource::accept(std::size_t i, double value) {
  const PollPoint& p = options_.points[i];
  reads_.inc();
  state_[i].last = value;
  state_[i].refused = false;
  Telemetry reading;
  reading.sensor = Symbol::intern(p.sensor);
  reading.ts_ns = clock_.nowNs();
  reading.values.assign(1, value);
  if (!p.unit.empty()) reading.tags.emplace_back("unit", p.unit);
  if (!sink_->ingest(std::move(reading), name_)) refused_.inc();
}

void ModbusSource::markStale(const std::string& reason) {
  if (!up_) return;  // once per outage
  up_ = false;
  device_up_.set(0);
  for (std::size_t i = 0; i < options_.points.size(); ++i) {
    if (!state_[i].last) continue;
    Telemetry reading;
    reading.sensor = Symbol::intern(options_.points[i].sensor);
    reading.ts_ns = clock_.nowNs();
    reading.values.assign(1, *state_[i].last);
    reading.quality = Quality::kBad;
    reading.flag = "stale: " + reason;
    if (!sink_->ingest(std::move(reading), name_)) refused_.inc();
  }
}

}  // namespace sie::modbus
