// A Modbus data point: where a value lives on a device (table, unit id, address), how its
// registers encode it (type, word and byte order) and how raw becomes engineering units
// (value = raw * scale + offset). Shared by the poll source and the write sink.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sie/config.h"
#include "sie/result.h"

namespace sie::modbus {

enum class Table { kCoil, kDiscreteInput, kHoldingRegister, kInputRegister };
enum class DataType { kBool, kInt16, kUint16, kInt32, kUint32, kFloat32 };

struct Point {
  Table table = Table::kHoldingRegister;
  int unit_id = 1;
  int address = 0;  // 0-based protocol address
  DataType type = DataType::kUint16;
  bool word_swap = false;  // low word first ("little" word order, CDAB)
  bool byte_swap = false;  // bytes swapped inside each register (BADC)
  double scale = 1.0;
  double offset = 0.0;

  [[nodiscard]] int registers() const;  // registers (or bits) one value spans
  [[nodiscard]] bool isBit() const {
    return table == Table::kCoil || table == Table::kDiscreteInput;
  }
  [[nodiscard]] bool writable() const {
    return table == Table::kCoil || table == Table::kHoldingRegister;
  }
};

// Engineering value from the registers read for `point` (registers().size() words).
double decodeRegisters(const Point& point, std::span<const std::uint16_t> words);
// The registers that make the engineering `value` for `point`; fails when the raw value does not
// fit the type (e.g. 70000 in a uint16, a fraction in an integer type).
Result<std::vector<std::uint16_t>> encodeRegisters(const Point& point, double value);

// The keys that describe a point (table, address, type, ...), for the plugins' tables.
std::span<const ConfigKey> pointKeys();
// Reads a point; `default_unit` is used when the entry sets no unitId.
Result<Point> readPoint(const ConfigValues& config, int default_unit);

std::string_view tableName(Table table);

}  // namespace sie::modbus
