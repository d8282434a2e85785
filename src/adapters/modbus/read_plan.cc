#include "adapters/modbus/read_plan.h"

#include <algorithm>

namespace sie::modbus {

std::vector<ReadBlock> planReads(std::span<const Point* const> points) {
  std::vector<std::size_t> order(points.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const Point& x = *points[a];
    const Point& y = *points[b];
    if (x.unit_id != y.unit_id) return x.unit_id < y.unit_id;
    if (x.table != y.table) return x.table < y.table;
    if (x.address != y.address) return x.address < y.address;
    return a < b;
  });
  std::vector<ReadBlock> blocks;
  for (const std::size_t i : order) {
    const Point& p = *points[i];
    const int end = p.address + p.registers();
    if (!blocks.empty()) {
      ReadBlock& last = blocks.back();
      const int limit = p.isBit() ? kMaxReadBits : kMaxReadRegisters;
      const int last_end = last.start + last.count;
      if (last.unit_id == p.unit_id && last.table == p.table && p.address <= last_end &&
          std::max(end, last_end) - last.start <= limit) {
        last.count = std::max(end, last_end) - last.start;
        last.points.push_back(i);
        continue;
      }
    }
    blocks.push_back(ReadBlock{p.table, p.unit_id, p.address, p.registers(), {i}});
  }
  return blocks;
}

}  // namespace sie::modbus
