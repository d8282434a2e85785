// Recorded plant data as a timestamped multi-column table: one row per time, one numeric column
// per signal, separated by ',' or ';' (detected from the header). Read whole into memory for
// replay (the csv source) and for scoring (`sie eval --csv`).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "sie/result.h"

namespace sie::csv {

struct Table {
  std::string path;
  std::vector<std::string> columns;   // the numeric columns, in file order (no time column)
  std::vector<std::int64_t> ts_ns;    // per row
  std::vector<std::vector<double>> rows;  // rows[r][c]; NaN for an empty cell
};

struct ReadOptions {
  // The time column; "" = the first column when it is named datetime, timestamp, time or ts.
  // Values: "2020-03-09 10:14:33", RFC 3339, or Unix time in s, ms or ns (by magnitude).
  std::string time_column;
  std::size_t max_rows = 10'000'000;
};

// Errors name the file, the line and the column ("valve1/3.csv:17: column 'Current': 'x' is not
// a number").
Result<Table> readTable(const std::string& path, const ReadOptions& options = {});

// A column name as a sensor id level: lowercase, each run of other characters than [a-z0-9]
// replaced by '_', trimmed ("Volume Flow RateRMS" -> "volume_flow_raterms").
std::string columnId(std::string_view name);

// Index of `name` in table.columns (by name or by columnId), or -1.
int findColumn(const Table& table, std::string_view name);

}  // namespace sie::csv
