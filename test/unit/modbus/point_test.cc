#include "adapters/modbus/point.h"

#include <bit>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "core/config_table.h"

namespace sie::modbus {
namespace {

using ::testing::HasSubstr;

Point point(DataType type, bool word_swap = false, bool byte_swap = false) {
  Point p;
  p.type = type;
  p.word_swap = word_swap;
  p.byte_swap = byte_swap;
  return p;
}

double decode(const Point& p, std::vector<std::uint16_t> words) {
  return decodeRegisters(p, words);
}

TEST(ModbusPointTest, DecodesEveryTypeAndOrder) {
  EXPECT_EQ(decode(point(DataType::kUint16), {0xFFFE}), 65534);
  EXPECT_EQ(decode(point(DataType::kInt16), {0xFFFE}), -2);
  EXPECT_EQ(decode(point(DataType::kInt16, false, true), {0xFEFF}), -2);  // bytes swapped
  EXPECT_EQ(decode(point(DataType::kUint32), {0x0001, 0x0002}), 65538);
  EXPECT_EQ(decode(point(DataType::kUint32, true), {0x0002, 0x0001}), 65538);  // low word first
  EXPECT_EQ(decode(point(DataType::kInt32), {0xFFFF, 0xFFFF}), -1);
  const auto bits = std::bit_cast<std::uint32_t>(3.5F);  // 0x40600000
  const auto hi = static_cast<std::uint16_t>(bits >> 16);
  const auto lo = static_cast<std::uint16_t>(bits);
  EXPECT_EQ(decode(point(DataType::kFloat32), {hi, lo}), 3.5);        // ABCD
  EXPECT_EQ(decode(point(DataType::kFloat32, true), {lo, hi}), 3.5);  // CDAB
  const auto swap = [](std::uint16_t w) { return static_cast<std::uint16_t>((w << 8) | (w >> 8)); };
  EXPECT_EQ(decode(point(DataType::kFloat32, false, true), {swap(hi), swap(lo)}), 3.5);  // BADC
  EXPECT_EQ(decode(point(DataType::kFloat32, true, true), {swap(lo), swap(hi)}), 3.5);   // DCBA
}

TEST(ModbusPointTest, ScaleAndOffsetBothWays) {
  Point p = point(DataType::kInt16);
  p.scale = 0.1;
  p.offset = -40;
  EXPECT_DOUBLE_EQ(decode(p, {650}), 25.0);
  auto words = encodeRegisters(p, 25.0);
  ASSERT_TRUE(words) << words.error().str();
  EXPECT_EQ(*words, std::vector<std::uint16_t>{650});
}

TEST(ModbusPointTest, EncodeRoundTripsAndRefusesWhatDoesNotFit) {
  for (const auto& p : {point(DataType::kFloat32), point(DataType::kFloat32, true, true),
                        point(DataType::kInt32, true), point(DataType::kUint16, false, true)}) {
    auto words = encodeRegisters(p, 1234);
    ASSERT_TRUE(words);
    EXPECT_EQ(decodeRegisters(p, *words), 1234);
  }
  EXPECT_THAT(encodeRegisters(point(DataType::kUint16), 70000).error().message,
              HasSubstr("outside"));
  EXPECT_THAT(encodeRegisters(point(DataType::kInt16), 1.5).error().message,
              HasSubstr("whole number"));
  Point coil;
  coil.table = Table::kCoil;
  coil.type = DataType::kBool;
  EXPECT_THAT(encodeRegisters(coil, 2).error().message, HasSubstr("0 or 1"));
}

Result<Point> read(const std::string& yaml) {
  auto values = readConfig(YAML::Load(yaml), pointKeys(), "site.yaml");
  if (!values) return tl::unexpected(values.error());
  return readPoint(*values, 7);
}

TEST(ModbusPointTest, ConfigErrorsSayWhatIsAllowed) {
  auto p = read("{address: 3, dataType: float32, wordOrder: little}");
  ASSERT_TRUE(p) << p.error().str();
  EXPECT_EQ(p->unit_id, 7);  // the device's default
  EXPECT_TRUE(p->word_swap);
  EXPECT_THAT(read("{address: 3, table: holdings}").error().message,
              HasSubstr("coil, discrete, holding or input"));
  EXPECT_THAT(read("{address: 3, dataType: float64}").error().message, HasSubstr("int16, uint16"));
  EXPECT_THAT(read("{address: 70000}").error().message,
              HasSubstr("'address' must be 0 to 65535 (got 70000)"));
  EXPECT_THAT(read("{address: 3, dataType: bool}").error().message,
              HasSubstr("a holding register holds a number"));
  EXPECT_THAT(read("{address: 65535, dataType: uint32}").error().message, HasSubstr("runs past"));
  EXPECT_THAT(read("{address: 1, table: coil, dataType: float32}").error().message,
              HasSubstr("one bit"));
  EXPECT_THAT(read("{address: 1, scale: 0}").error().message, HasSubstr("non-zero"));
  EXPECT_THAT(read("{address: 1, byteOrder: middle}").error().message, HasSubstr("big or little"));
  EXPECT_FALSE(read("{dataType: int16}"));  // address is required
}

}  // namespace
}  // namespace sie::modbus
