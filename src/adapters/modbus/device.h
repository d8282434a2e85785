// One Modbus TCP connection (libmodbus) to a device, used by one thread at a time.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "adapters/modbus/point.h"
#include "adapters/modbus/read_plan.h"
#include "sie/config.h"
#include "sie/result.h"

typedef struct _modbus modbus_t;  // NOLINT(modernize-use-using): libmodbus's own declaration

namespace sie::modbus {

struct DeviceOptions {
  std::string host = "127.0.0.1";
  int port = 502;
  int unit_id = 1;
  std::chrono::milliseconds timeout{1000};
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30000};
};

// The keys every Modbus source and sink shares (host, port, unitId, timeout, reconnect*).
std::span<const ConfigKey> deviceKeys();
Result<DeviceOptions> readDevice(const ConfigValues& config);

class Device {
 public:
  explicit Device(DeviceOptions options);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // Connects unless connected. Errors: Errc::kIo.
  Status connect();
  void close();
  [[nodiscard]] bool connected() const { return connected_; }

  // Errors: Errc::kInvalidArgument when the device answered with an exception (illegal address,
  // function, value; the connection stays up); Errc::kTimeout or Errc::kIo when it did not answer
  // (the connection is closed, connect() again).
  Result<double> read(const Point& point);
  // The registers (bits as 0 or 1) of `block`, in one request; errors as read().
  Result<std::vector<std::uint16_t>> read(const ReadBlock& block);
  Status write(const Point& point, double value);

 private:
  Status failure(std::string_view what, int unit_id, Table table, int address);

  DeviceOptions options_;
  modbus_t* ctx_ = nullptr;
  bool connected_ = false;
};

}  // namespace sie::modbus
