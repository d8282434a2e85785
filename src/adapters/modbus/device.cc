#include "adapters/modbus/device.h"

#include <array>
#include <cerrno>

#include <fmt/format.h>
#include <modbus.h>

namespace sie::modbus {
namespace {

using Type = ConfigKey::Type;

const ConfigKey kDeviceKeys[] = {
    {"host", Type::kString, "127.0.0.1", "device (or gateway) host name or address"},
    ConfigKey{"port", Type::kInt, "502", "Modbus TCP port"}.within(1, 65535),
    ConfigKey{"unitId", Type::kInt, "1", "default Modbus unit (slave) id"}.within(0, 255),
    ConfigKey{"timeout", Type::kDuration, "1s",
              "response timeout; a device that misses it is treated as down"}
        .withinTime(std::chrono::milliseconds(1), std::chrono::seconds(60)),
    ConfigKey{"reconnectMin", Type::kDuration, "500ms",
              "first reconnect delay (doubles, with jitter; at most reconnectMax)"}
        .withinTime(std::chrono::milliseconds(1)),
    {"reconnectMax", Type::kDuration, "30s", "longest reconnect delay"},
};

bool isException(int error) { return error >= EMBXILFUN && error <= EMBXGTAR; }

}  // namespace

std::span<const ConfigKey> deviceKeys() { return kDeviceKeys; }

Result<DeviceOptions> readDevice(const ConfigValues& config) {
  DeviceOptions d;
  d.host = config.str("host");
  if (d.host.empty()) return config.invalid("host must not be empty");
  d.port = static_cast<int>(config.integer("port"));
  d.unit_id = static_cast<int>(config.integer("unitId"));
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  d.timeout = duration_cast<milliseconds>(config.duration("timeout"));
  d.reconnect_min = duration_cast<milliseconds>(config.duration("reconnectMin"));
  d.reconnect_max = duration_cast<milliseconds>(config.duration("reconnectMax"));
  if (d.reconnect_max < d.reconnect_min) {
    return config.invalid("reconnectMin must be at most reconnectMax");
  }
  return d;
}

Device::Device(DeviceOptions options) : options_(std::move(options)) {}

Device::~Device() {
  close();
  if (ctx_) modbus_free(ctx_);
}

Status Device::connect() {
  if (connected_) return ok();
  if (!ctx_) {
    ctx_ = modbus_new_tcp_pi(options_.host.c_str(), std::to_string(options_.port).c_str());
    if (!ctx_)
      return fail(Errc::kIo, fmt::format("modbus: cannot create a context for {}", options_.host));
    const auto ms = options_.timeout.count();
    modbus_set_response_timeout(ctx_, static_cast<std::uint32_t>(ms / 1000),
                                static_cast<std::uint32_t>((ms % 1000) * 1000));
  }
  if (modbus_connect(ctx_) != 0) {
    return fail(Errc::kIo, fmt::format("modbus {}:{}: cannot connect: {}", options_.host,
                                       options_.port, modbus_strerror(errno)));
  }
  connected_ = true;
  return ok();
}

void Device::close() {
  if (ctx_ && connected_) modbus_close(ctx_);
  connected_ = false;
}

Status Device::failure(std::string_view what, int unit_id, Table table, int address) {
  const int error = errno;
  // An exception is the device's own answer: its code (1 illegal function, 2 illegal data
  // address, 3 illegal data value, 4 device failure, ...) names the reason.
  const std::string why =
      isException(error)
          ? fmt::format("exception {} ({})", error - MODBUS_ENOBASE, modbus_strerror(error))
          : std::string(modbus_strerror(error));
  const std::string message =
      fmt::format("modbus {}:{} unit {} {} {} {}: {}", options_.host, options_.port, unit_id, what,
                  tableName(table), address, why);
  if (isException(error)) return fail(Errc::kInvalidArgument, message);
  close();  // no answer, or a garbled one: start over on a fresh connection
  return fail(error == ETIMEDOUT ? Errc::kTimeout : Errc::kIo, message);
}

Result<double> Device::read(const Point& point) {
  SIE_CHECK(connect());
  modbus_set_slave(ctx_, point.unit_id);
  std::array<std::uint16_t, 2> words{};
  int n = -1;
  if (point.isBit()) {
    std::uint8_t bit = 0;
    n = point.table == Table::kCoil ? modbus_read_bits(ctx_, point.address, 1, &bit)
                                    : modbus_read_input_bits(ctx_, point.address, 1, &bit);
    words[0] = bit;
  } else if (point.table == Table::kHoldingRegister) {
    n = modbus_read_registers(ctx_, point.address, point.registers(), words.data());
  } else {
    n = modbus_read_input_registers(ctx_, point.address, point.registers(), words.data());
  }
  if (n < 0)
    return tl::unexpected(failure("read", point.unit_id, point.table, point.address).error());
  return decodeRegisters(point, std::span<const std::uint16_t>(
                                    words.data(), static_cast<std::size_t>(point.registers())));
}

Result<std::vector<std::uint16_t>> Device::read(const ReadBlock& block) {
  SIE_CHECK(connect());
  modbus_set_slave(ctx_, block.unit_id);
  std::vector<std::uint16_t> words(static_cast<std::size_t>(block.count));
  int n = -1;
  if (block.table == Table::kCoil || block.table == Table::kDiscreteInput) {
    std::vector<std::uint8_t> bits(words.size());
    n = block.table == Table::kCoil
            ? modbus_read_bits(ctx_, block.start, block.count, bits.data())
            : modbus_read_input_bits(ctx_, block.start, block.count, bits.data());
    std::copy(bits.begin(), bits.end(), words.begin());
  } else if (block.table == Table::kHoldingRegister) {
    n = modbus_read_registers(ctx_, block.start, block.count, words.data());
  } else {
    n = modbus_read_input_registers(ctx_, block.start, block.count, words.data());
  }
  if (n < 0) {
    const int error = errno;
    const std::string what = fmt::format("read of {} from", block.count);
    errno = error;  // failure() reports it; the formatting above may have touched it
    return tl::unexpected(failure(what, block.unit_id, block.table, block.start).error());
  }
  return words;
}

Status Device::write(const Point& point, double value) {
  if (!point.writable()) {
    return fail(Errc::kInvalidArgument, fmt::format("a {} cannot be written (use coil or holding)",
                                                    tableName(point.table)));
  }
  const auto words = SIE_TRY(encodeRegisters(point, value));
  SIE_CHECK(connect());
  modbus_set_slave(ctx_, point.unit_id);
  int n = -1;
  if (point.table == Table::kCoil) {
    n = modbus_write_bit(ctx_, point.address, words[0] != 0 ? 1 : 0);
  } else if (words.size() == 1) {
    n = modbus_write_register(ctx_, point.address, words[0]);
  } else {
    n = modbus_write_registers(ctx_, point.address, static_cast<int>(words.size()), words.data());
  }
  if (n < 0) return failure("write", point.unit_id, point.table, point.address);
  return ok();
}

}  // namespace sie::modbus
