// planReads: which requests read a poll's points — one per contiguous run of one unit and table,
// within the protocol's limits.
#include "adapters/modbus/read_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::modbus {
namespace {

using ::testing::ElementsAre;

Point at(int address, DataType type = DataType::kUint16, Table table = Table::kHoldingRegister,
         int unit = 1) {
  Point p;
  p.table = table;
  p.unit_id = unit;
  p.address = address;
  p.type = type;
  return p;
}

std::vector<ReadBlock> plan(const std::vector<Point>& points) {
  std::vector<const Point*> refs;
  for (const auto& p : points) refs.push_back(&p);
  return planReads(refs);
}

TEST(ReadPlanTest, ContiguousAndOverlappingPointsShareARequest) {
  const auto blocks = plan({at(3), at(0), at(1, DataType::kFloat32), at(2)});
  ASSERT_EQ(blocks.size(), 1U);
  EXPECT_EQ(blocks[0].start, 0);
  EXPECT_EQ(blocks[0].count, 4);
  EXPECT_THAT(blocks[0].points, ElementsAre(1, 2, 3, 0)) << "by address";
}

TEST(ReadPlanTest, AGapATableOrAUnitStartsAnotherRequest) {
  const auto blocks =
      plan({at(0), at(2), at(0, DataType::kUint16, Table::kInputRegister),
            at(1, DataType::kUint16, Table::kHoldingRegister, 2),
            at(0, DataType::kBool, Table::kCoil), at(1, DataType::kBool, Table::kCoil)});
  ASSERT_EQ(blocks.size(), 5U);
  std::vector<std::pair<int, int>> spans;
  for (const auto& b : blocks) spans.emplace_back(b.start, b.count);
  EXPECT_THAT(spans, ElementsAre(std::pair(0, 2), std::pair(0, 1), std::pair(2, 1), std::pair(0, 1),
                                 std::pair(1, 1)));
}

TEST(ReadPlanTest, ARequestStaysWithinTheProtocolsLimit) {
  std::vector<Point> points;
  for (int a = 0; a < 200; ++a) points.push_back(at(a));
  for (int a = 0; a < 2500; ++a) points.push_back(at(a, DataType::kBool, Table::kCoil));
  const auto blocks = plan(points);
  ASSERT_EQ(blocks.size(), 4U);
  EXPECT_EQ(blocks[0].table, Table::kCoil);
  EXPECT_EQ(blocks[0].count, kMaxReadBits);
  EXPECT_EQ(blocks[1].count, 500);
  EXPECT_EQ(blocks[2].count, kMaxReadRegisters);
  EXPECT_EQ(blocks[3].start, kMaxReadRegisters);
  EXPECT_EQ(blocks[3].count, 75);
}

}  // namespace
}  // namespace sie::modbus
