// Which Modbus requests read a set of points: contiguous or overlapping points of one unit and
// table share a request, up to the protocol's limit, so a poll costs one round trip per block
// instead of one per point.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "adapters/modbus/point.h"

namespace sie::modbus {

// The most one read request may ask for (Modbus application protocol, 6.1–6.4).
inline constexpr int kMaxReadRegisters = 125;
inline constexpr int kMaxReadBits = 2000;

struct ReadBlock {
  Table table = Table::kHoldingRegister;
  int unit_id = 1;
  int start = 0;                    // first address
  int count = 0;                    // registers (or bits)
  std::vector<std::size_t> points;  // indices into the points planned, by address
};

// The blocks that read every one of `points`. Points with gaps between them are read apart:
// reading across unmapped addresses makes many devices answer with an exception.
std::vector<ReadBlock> planReads(std::span<const Point* const> points);

}  // namespace sie::modbus
