#include "adapters/sim/csv_export.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "sim_test_util.h"

namespace sie::sim {
namespace {

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::stringstream in(line);
  for (std::string field; std::getline(in, field, sep);) out.push_back(field);
  if (!line.empty() && line.back() == sep) out.emplace_back();
  return out;
}

class SimExport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("sim_export_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SimExport, WritesReadingsAndFaultsWithHeaders) {
  const std::string path = (dir_ / "plant.csv").string();
  ExportSummary summary;
  auto rows = exportCsv(SimOptions{}, std::chrono::seconds(5), path, &summary);
  ASSERT_TRUE(rows) << rows.error().str();
  // Per second: grid 9 x 10, hvac 12, pumps 2 x (2000 + 1), racks 2 x 5, districts 3 x 2.
  EXPECT_EQ(*rows, 5u * (90 + 12 + 4002 + 10 + 6));
  EXPECT_EQ(summary.rows, *rows);
  EXPECT_EQ(summary.sensors, 41u);
  EXPECT_EQ(summary.faults_path, (dir_ / "plant.faults.csv").string());
  const auto lines = readLines(path);
  ASSERT_EQ(lines.size(), *rows + 1);
  EXPECT_EQ(lines.front(), "ts_ns,sensor,value,fault");
  const auto first = split(lines[1], ',');
  ASSERT_EQ(first.size(), 4u);
  EXPECT_GT(std::stoll(first[0]), kDefaultStartNs);
  const auto faults = readLines(summary.faults_path);
  ASSERT_FALSE(faults.empty());
  EXPECT_EQ(faults.front(), "kind,domain,asset,sensors,start_ns,end_ns,magnitude");
  EXPECT_EQ(faults.size(), 1u);  // the first faults come after a minute of warm-up
}

TEST_F(SimExport, LabelsMatchTheFaultIntervals) {
  SimOptions options;
  options.domains = {"grid", "water", "hvac"};
  options.faults_per_asset_hour = 120;
  const std::string path = (dir_ / "labelled.csv").string();
  ExportSummary summary;
  auto rows = exportCsv(options, std::chrono::seconds(600), path, &summary);
  ASSERT_TRUE(rows) << rows.error().str();

  struct Interval {
    std::string kind;
    std::int64_t start, end;
  };
  std::multimap<std::string, Interval> by_sensor;
  const auto fault_lines = readLines(summary.faults_path);
  ASSERT_GT(fault_lines.size(), 10u);
  ASSERT_EQ(fault_lines.size(), summary.faults.size() + 1);
  for (std::size_t i = 1; i < fault_lines.size(); ++i) {
    const auto f = split(fault_lines[i], ',');
    ASSERT_EQ(f.size(), 7u) << fault_lines[i];
    for (const auto& sensor : split(f[3], ';')) {
      by_sensor.emplace(sensor, Interval{f[0], std::stoll(f[4]), std::stoll(f[5])});
    }
  }
  std::size_t labelled = 0;
  const auto lines = readLines(path);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto row = split(lines[i], ',');
    ASSERT_EQ(row.size(), 4u) << lines[i];
    const std::int64_t ts = std::stoll(row[0]);
    std::string expected;
    auto [lo, hi] = by_sensor.equal_range(row[1]);
    for (auto it = lo; it != hi; ++it) {
      if (it->second.start <= ts && ts < it->second.end) expected = it->second.kind;
    }
    EXPECT_EQ(row[3], expected) << lines[i];
    if (!expected.empty()) ++labelled;
  }
  EXPECT_GT(labelled, 100u);
}

TEST_F(SimExport, FaultsPathDropsTheCsvSuffix) {
  EXPECT_EQ(faultsPathFor("a/b.csv"), "a/b.faults.csv");
  EXPECT_EQ(faultsPathFor("data"), "data.faults.csv");
}

TEST_F(SimExport, ReportsUnwritablePathsAndBadArguments) {
  auto rows = exportCsv(SimOptions{}, std::chrono::seconds(1), (dir_ / "missing/x.csv").string());
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, Errc::kIo);
  EXPECT_NE(rows.error().str().find("missing/x.csv"), std::string::npos);

  rows = exportCsv(SimOptions{}, std::chrono::seconds(0), (dir_ / "x.csv").string());
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, Errc::kInvalidArgument);

  SimOptions options;
  options.domains = {"mars"};
  rows = exportCsv(options, std::chrono::seconds(1), (dir_ / "x.csv").string());
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code, Errc::kInvalidArgument);
}

}  // namespace
}  // namespace sie::sim
