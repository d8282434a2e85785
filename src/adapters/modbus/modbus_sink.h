// ModbusSink: actuates on decisions. For each decision event on its bus topics that matches
// `when` (anomaly, normal or always) it writes `value` to one coil or holding register, reads it
// back to verify, and records the action in the audit chain. Writes run on the sink's own thread
// in arrival order; the same value is not written again within `minInterval`. A write that
// fails after its retries, or reads back wrong, is dead-lettered with the reason and audited.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/modbus/device.h"
#include "sie/clock.h"
#include "sie/metrics.h"
#include "sie/sink.h"

namespace sie::modbus {

struct WriteOptions {
  DeviceOptions device;
  std::vector<std::string> subscribe = {"decisions/#"};
  enum class When { kAnomaly, kNormal, kAlways } when = When::kAnomaly;
  Point point;
  double value = 0;
  bool verify = true;
  int retries = 2;
  std::chrono::milliseconds min_interval{1000};
  std::size_t max_queued = 1000;
};

class ModbusSink final : public Sink {
 public:
  ModbusSink(std::string name, WriteOptions options, const Clock& clock = systemClock());
  ~ModbusSink() override;

  [[nodiscard]] const std::string& name() const override { return name_; }
  Status start(const SinkContext& context) override;
  void stop() override;

 private:
  struct Trigger {
    std::string subject;   // the sensor the decision was about
    std::string decision;  // the decision event's data (JSON)
  };
  void onDecision(const Event& event);
  void run();
  void actuate(const Trigger& trigger);
  // Writes and verifies; the read-back value on success.
  Result<std::optional<double>> writeVerified();
  void audit(const Trigger& trigger, std::string_view outcome, const std::string& detail);

  std::string name_;
  WriteOptions options_;
  const Clock& clock_;
  Device device_;
  Bus* bus_ = nullptr;
  DeadLetterStore* dead_letters_ = nullptr;
  AuditLog* audit_ = nullptr;
  std::vector<std::uint64_t> subscriptions_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Trigger> queue_;
  bool stopping_ = false;
  std::thread thread_;
  std::optional<std::chrono::steady_clock::time_point> last_write_;  // sink thread only
  Counter& writes_;
  Counter& skipped_;
  Counter& failures_;
};

}  // namespace sie::modbus
