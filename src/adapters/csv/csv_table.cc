#include "adapters/csv/csv_table.h"

#include <charconv>
#include <cmath>
#include <fstream>

#include <fmt/format.h>

#include "core/rfc3339.h"

namespace sie::csv {
namespace {

std::vector<std::string_view> split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(sep, start);
    out.push_back(line.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"'))
    s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '"')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<double> number(std::string_view text) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::int64_t> timestamp(std::string_view text) {
  if (auto v = number(text)) {
    if (!std::isfinite(*v) || *v < 0) return std::nullopt;
    const double ns = *v < 1e11 ? *v * 1e9 : *v < 1e14 ? *v * 1e6 : *v;
    if (ns > 9e18) return std::nullopt;
    return static_cast<std::int64_t>(ns);
  }
  // "2020-03-09 10:14:33[.fff]" without a zone: UTC.
  std::string iso(text);
  if (iso.size() >= 19 && iso[10] == ' ') iso[10] = 'T';
  const bool zoned = iso.back() == 'Z' || iso.find('+', 19) != std::string::npos ||
                     (iso.size() > 19 && iso.find('-', 19) != std::string::npos);
  if (!zoned) iso += 'Z';
  return parseRfc3339(iso);
}

bool isTimeName(std::string_view name) {
  const std::string id = columnId(name);
  return id == "datetime" || id == "timestamp" || id == "time" || id == "ts" || id == "ts_ns";
}

}  // namespace

std::string columnId(std::string_view name) {
  std::string out;
  bool gap = false;
  for (char c : name) {
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9')) {
      if (gap && !out.empty()) out += '_';
      out += lower;
      gap = false;
    } else {
      gap = true;
    }
  }
  return out;
}

int findColumn(const Table& table, std::string_view name) {
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    if (table.columns[i] == name || columnId(table.columns[i]) == columnId(name)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

Result<Table> readTable(const std::string& path, const ReadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::kNotFound, "cannot open the CSV file", path);
  std::string header;
  if (!std::getline(in, header) || trim(header).empty()) {
    return fail(Errc::kParse, "the CSV file is empty (expected a header line)", path);
  }
  const char sep = header.find(';') != std::string::npos ? ';' : ',';
  std::vector<std::string_view> names = split(header, sep);
  int time = -1;
  for (std::size_t i = 0; i < names.size(); ++i) {
    names[i] = trim(names[i]);
    if (!options.time_column.empty() ? names[i] == options.time_column
                                     : (i == 0 && isTimeName(names[i]))) {
      time = static_cast<int>(i);
    }
  }
  if (time < 0) {
    return fail(Errc::kInvalidArgument,
                options.time_column.empty()
                    ? "no time column: name the first column datetime, timestamp, time or ts, or "
                      "give the time column's name"
                    : fmt::format("no column named '{}' in the header", options.time_column),
                path + ":1");
  }
  Table table;
  table.path = path;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (static_cast<int>(i) != time) table.columns.emplace_back(names[i]);
  }
  if (table.columns.empty()) return fail(Errc::kInvalidArgument, "no value columns", path + ":1");
  std::string line;
  std::size_t line_number = 1;
  while (std::getline(in, line)) {
    ++line_number;
    if (trim(line).empty()) continue;
    if (table.rows.size() >= options.max_rows) {
      return fail(Errc::kUnsupported, fmt::format("more than {} rows", options.max_rows), path);
    }
    const auto cells = split(line, sep);
    const std::string where = fmt::format("{}:{}", path, line_number);
    if (cells.size() != names.size()) {
      return fail(Errc::kParse,
                  fmt::format("{} cells, the header has {}", cells.size(), names.size()), where);
    }
    auto ts = timestamp(trim(cells[static_cast<std::size_t>(time)]));
    if (!ts) {
      return fail(Errc::kParse,
                  fmt::format("'{}' is not a time", trim(cells[static_cast<std::size_t>(time)])),
                  where);
    }
    if (!table.ts_ns.empty() && *ts < table.ts_ns.back()) {
      return fail(Errc::kParse, "rows must be in time order (this row is older than the last)",
                  where);
    }
    std::vector<double> row;
    row.reserve(table.columns.size());
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (static_cast<int>(i) == time) continue;
      const std::string_view cell = trim(cells[i]);
      if (cell.empty()) {
        row.push_back(std::numeric_limits<double>::quiet_NaN());
        continue;
      }
      auto v = number(cell);
      if (!v) {
        return fail(Errc::kParse, fmt::format("column '{}': '{}' is not a number", names[i], cell),
                    where);
      }
      row.push_back(*v);
    }
    table.ts_ns.push_back(*ts);
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace sie::csv
