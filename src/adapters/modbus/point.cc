#include "adapters/modbus/point.h"

#include <bit>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace sie::modbus {
namespace {

using Type = ConfigKey::Type;

const ConfigKey kPointKeys[] = {
    ConfigKey{"table", Type::kString, "holding", "the point's Modbus table"}.oneOf(
        "coil|discrete|holding|input"),
    ConfigKey{"unitId", Type::kInt, "", "Modbus unit (slave) id; default: the device's"}.within(
        0, 255),
    ConfigKey{"address", Type::kInt, "", "0-based register or bit address", true}.within(0, 65535),
    ConfigKey{"dataType", Type::kString, "uint16",
              "the register value's type (bool for coils and discrete inputs)"}
        .oneOf("int16|uint16|int32|uint32|float32|bool"),
    ConfigKey{"wordOrder", Type::kString, "big", "32-bit values: big (high word first) or little"}
        .oneOf("big|little"),
    ConfigKey{"byteOrder", Type::kString, "big", "bytes inside a register"}.oneOf("big|little"),
    {"scale", Type::kDouble, "1", "engineering value = raw * scale + offset"},
    {"offset", Type::kDouble, "0", "engineering value = raw * scale + offset"},
};

std::uint16_t swapBytes(std::uint16_t w) { return static_cast<std::uint16_t>((w << 8) | (w >> 8)); }

}  // namespace

std::string_view tableName(Table table) {
  switch (table) {
    case Table::kCoil:
      return "coil";
    case Table::kDiscreteInput:
      return "discrete";
    case Table::kHoldingRegister:
      return "holding";
    case Table::kInputRegister:
      return "input";
  }
  return "?";
}

int Point::registers() const {
  switch (type) {
    case DataType::kInt32:
    case DataType::kUint32:
    case DataType::kFloat32:
      return 2;
    default:
      return 1;
  }
}

double decodeRegisters(const Point& point, std::span<const std::uint16_t> words) {
  double raw = 0;
  if (point.isBit() || point.type == DataType::kBool) {
    raw = words[0] != 0 ? 1 : 0;
  } else if (point.registers() == 1) {
    const std::uint16_t w = point.byte_swap ? swapBytes(words[0]) : words[0];
    raw = point.type == DataType::kInt16 ? static_cast<double>(static_cast<std::int16_t>(w))
                                         : static_cast<double>(w);
  } else {
    std::uint16_t hi = point.word_swap ? words[1] : words[0];
    std::uint16_t lo = point.word_swap ? words[0] : words[1];
    if (point.byte_swap) {
      hi = swapBytes(hi);
      lo = swapBytes(lo);
    }
    const std::uint32_t u = (static_cast<std::uint32_t>(hi) << 16) | lo;
    switch (point.type) {
      case DataType::kInt32:
        raw = static_cast<double>(static_cast<std::int32_t>(u));
        break;
      case DataType::kUint32:
        raw = static_cast<double>(u);
        break;
      default:
        raw = static_cast<double>(std::bit_cast<float>(u));
        break;
    }
  }
  return raw * point.scale + point.offset;
}

Result<std::vector<std::uint16_t>> encodeRegisters(const Point& point, double value) {
  const double raw = (value - point.offset) / point.scale;
  const auto bad = [&](std::string_view why) {
    return fail(Errc::kInvalidArgument,
                fmt::format("value {} (raw {}) cannot be written as {}: {}", value, raw,
                            point.isBit() ? "a bit" : "registers", why));
  };
  if (!std::isfinite(raw)) return bad("not finite");
  if (point.isBit() || point.type == DataType::kBool) {
    if (raw != 0 && raw != 1) return bad("a bit is 0 or 1");
    return std::vector<std::uint16_t>{static_cast<std::uint16_t>(raw)};
  }
  std::uint32_t u = 0;
  const auto integral = [&](double lo, double hi) -> Status {
    if (raw != std::floor(raw)) return bad("not a whole number");
    if (raw < lo || raw > hi) return bad(fmt::format("outside [{}, {}]", lo, hi));
    return ok();
  };
  switch (point.type) {
    case DataType::kInt16:
      SIE_CHECK(integral(-32768, 32767));
      u = static_cast<std::uint16_t>(static_cast<std::int16_t>(raw));
      break;
    case DataType::kUint16:
      SIE_CHECK(integral(0, 65535));
      u = static_cast<std::uint32_t>(raw);
      break;
    case DataType::kInt32:
      SIE_CHECK(integral(-2147483648.0, 2147483647.0));
      u = static_cast<std::uint32_t>(static_cast<std::int32_t>(raw));
      break;
    case DataType::kUint32:
      SIE_CHECK(integral(0, 4294967295.0));
      u = static_cast<std::uint32_t>(raw);
      break;
    default:
      if (std::fabs(raw) > std::numeric_limits<float>::max()) return bad("outside float32");
      u = std::bit_cast<std::uint32_t>(static_cast<float>(raw));
      break;
  }
  if (point.registers() == 1) {
    const auto w = static_cast<std::uint16_t>(u);
    return std::vector<std::uint16_t>{point.byte_swap ? swapBytes(w) : w};
  }
  std::uint16_t hi = static_cast<std::uint16_t>(u >> 16);
  std::uint16_t lo = static_cast<std::uint16_t>(u);
  if (point.byte_swap) {
    hi = swapBytes(hi);
    lo = swapBytes(lo);
  }
  return point.word_swap ? std::vector<std::uint16_t>{lo, hi} : std::vector<std::uint16_t>{hi, lo};
}

std::span<const ConfigKey> pointKeys() { return kPointKeys; }

Result<Point> readPoint(const ConfigValues& config, int default_unit) {
  Point p;
  const std::string table = config.str("table");
  if (table == "coil")
    p.table = Table::kCoil;
  else if (table == "discrete")
    p.table = Table::kDiscreteInput;
  else if (table == "holding")
    p.table = Table::kHoldingRegister;
  else
    p.table = Table::kInputRegister;
  p.unit_id = config.has("unitId") ? static_cast<int>(config.integer("unitId")) : default_unit;
  const std::int64_t address = config.integer("address");
  p.address = static_cast<int>(address);
  const std::string type = config.str("dataType");
  if (p.isBit()) {
    if (type != "uint16" && type != "bool") {
      return config.invalid(
          fmt::format("a {} holds one bit: dataType must be bool (got '{}')", table, type));
    }
    p.type = DataType::kBool;
  } else if (type == "int16")
    p.type = DataType::kInt16;
  else if (type == "uint16")
    p.type = DataType::kUint16;
  else if (type == "int32")
    p.type = DataType::kInt32;
  else if (type == "uint32")
    p.type = DataType::kUint32;
  else if (type == "float32")
    p.type = DataType::kFloat32;
  else
    return config.invalid(fmt::format(
        "a {} register holds a number: dataType bool is for coils and discrete inputs", table));
  if (address + p.registers() > 65536) return config.invalid("the value runs past register 65535");
  for (const auto& [key, flag] :
       {std::pair{"wordOrder", &p.word_swap}, std::pair{"byteOrder", &p.byte_swap}}) {
    *flag = config.str(key) == "little";
  }
  p.scale = config.number("scale");
  p.offset = config.number("offset");
  if (p.scale == 0 || !std::isfinite(p.scale) || !std::isfinite(p.offset)) {
    return config.invalid("scale must be a non-zero number and offset a number");
  }
  return p;
}

}  // namespace sie::modbus
