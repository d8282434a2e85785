// Recorded CSV tables: separators, time formats, column ids, and errors that name file and line.
#include "adapters/csv/csv_table.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sie::csv {
namespace {

using ::testing::HasSubstr;

class CsvTableTest : public ::testing::Test {
 protected:
  std::string write(const std::string& text) {
    const auto path = std::filesystem::temp_directory_path() /
                      ("sie-csv-" + std::to_string(::getpid()) + "-" + std::to_string(files_++) + ".csv");
    std::ofstream(path) << text;
    paths_.push_back(path);
    return path.string();
  }
  void TearDown() override {
    for (const auto& p : paths_) std::filesystem::remove(p);
  }
  int files_ = 0;
  std::vector<std::filesystem::path> paths_;
};

TEST_F(CsvTableTest, ReadsSemicolonSeparatedSkabStyleRows) {
  const auto path = write(
      "datetime;Accelerometer1RMS;Volume Flow RateRMS;anomaly\n"
      "2020-03-09 10:14:33;0.0265878;32.0;0.0\n"
      "2020-03-09 10:14:34;0.0261697;;1.0\n");
  auto t = readTable(path);
  ASSERT_TRUE(t) << t.error().str();
  EXPECT_EQ(t->columns, (std::vector<std::string>{"Accelerometer1RMS", "Volume Flow RateRMS", "anomaly"}));
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->ts_ns[0], 1583748873LL * 1'000'000'000);
  EXPECT_EQ(t->ts_ns[1] - t->ts_ns[0], 1'000'000'000);
  EXPECT_DOUBLE_EQ(t->rows[0][0], 0.0265878);
  EXPECT_TRUE(std::isnan(t->rows[1][1]));  // an empty cell
  EXPECT_EQ(findColumn(*t, "volume_flow_raterms"), 1);
  EXPECT_EQ(findColumn(*t, "nope"), -1);
}

TEST_F(CsvTableTest, ReadsCommaSeparatedRowsWithUnixTimesAndANamedTimeColumn) {
  const auto path = write("value,when\n1.5,1700000000\n2.5,1700000000500\n");
  ReadOptions o;
  o.time_column = "when";
  auto t = readTable(path, o);
  ASSERT_TRUE(t) << t.error().str();
  EXPECT_EQ(t->columns, (std::vector<std::string>{"value"}));
  EXPECT_EQ(t->ts_ns[0], 1'700'000'000LL * 1'000'000'000);
  EXPECT_EQ(t->ts_ns[1], 1'700'000'000'500LL * 1'000'000);  // milliseconds by magnitude
}

TEST_F(CsvTableTest, ColumnIdsAreLowercaseWithUnderscores) {
  EXPECT_EQ(columnId("Volume Flow RateRMS"), "volume_flow_raterms");
  EXPECT_EQ(columnId("  Temp (°C) "), "temp_c");
  EXPECT_EQ(columnId("power_s1"), "power_s1");
}

TEST_F(CsvTableTest, ErrorsNameTheFileTheLineAndTheColumn) {
  EXPECT_THAT(readTable(write("")).error().str(), HasSubstr("empty"));
  EXPECT_THAT(readTable(write("a;b\n1;2\n")).error().str(), HasSubstr("no time column"));
  auto bad = write("ts;Current\n1700000000;1.2\n1700000001;abc\n");
  EXPECT_THAT(readTable(bad).error().str(), HasSubstr(bad + ":3: column 'Current': 'abc' is not a number"));
  auto cells = write("ts;a;b\n1700000000;1;2\n1700000001;1\n");
  EXPECT_THAT(readTable(cells).error().str(), HasSubstr(":3: 2 cells, the header has 3"));
  auto order = write("ts;a\n1700000005;1\n1700000001;1\n");
  EXPECT_THAT(readTable(order).error().str(), HasSubstr(":3: rows must be in time order"));
  auto time = write("datetime;a\nyesterday;1\n");
  EXPECT_THAT(readTable(time).error().str(), HasSubstr(":2: 'yesterday' is not a time"));
  EXPECT_THAT(readTable("/nonexistent/x.csv").error().str(), HasSubstr("cannot open"));
}

}  // namespace
}  // namespace sie::csv
