// ModbusSource: polls the points of one Modbus TCP device and feeds each value to the gateway
// as a reading of its sensor (the engineering unit travels as the tag "unit").
//
// A device that answers with an exception (illegal address, ...) is up: the error is counted
// per point and polling goes on. A device that does not answer (timeout, refused connection)
// is down: each of its sensors gets one reading of its last value with quality bad and the
// flag "stale: ..." (functions do not score it), and the source reconnects with jittered
// backoff instead of retrying in a tight loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/modbus/device.h"
#include "core/backoff.h"
#include "sie/clock.h"
#include "sie/metrics.h"
#include "sie/source.h"

namespace sie::modbus {

struct PollPoint {
  std::string sensor;
  Point point;
  std::chrono::nanoseconds interval{std::chrono::seconds(1)};
  std::string unit;  // engineering unit, "" when not given
};

struct SourceOptions {
  DeviceOptions device;
  std::vector<PollPoint> points;
};

class ModbusSource final : public Source {
 public:
  ModbusSource(std::string name, SourceOptions options, const Clock& clock = systemClock());
  ~ModbusSource() override;

  [[nodiscard]] const std::string& name() const override { return name_; }
  Status start(Ingest& sink) override;
  void stop() override;

 private:
  struct Polled {
    std::chrono::steady_clock::time_point due;
    std::optional<double> last;
    std::uint64_t exceptions = 0;
    bool refused = false;  // its last poll was answered with an exception
  };
  void run();
  // Reads the due points, contiguous ones in one request; false when the device stopped
  // answering.
  bool pollDue(std::chrono::steady_clock::time_point now);
  // Reads point i on its own; false when the device stopped answering.
  bool pollPoint(std::size_t i);
  // Counts a failed read of point i: an exception (true: go on) or no answer (false: the device
  // is marked down).
  bool failed(std::size_t i, const Error& error);
  // Point i read as `value`: into the gateway.
  void accept(std::size_t i, double value);
  void markStale(const std::string& reason);
  void waitFor(std::chrono::steady_clock::duration delay);

  std::string name_;
  SourceOptions options_;
  const Clock& clock_;
  Device device_;
  Backoff backoff_;
  Ingest* sink_ = nullptr;
  std::vector<Polled> state_;  // per point, poll thread only
  bool up_ = false;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  Counter& reads_;
  Counter& exceptions_;
  Counter& timeouts_;
  Counter& refused_;
  Gauge& device_up_;
};

}  // namespace sie::modbus
