#include "gateway/telemetry_json.h"

#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace sie::gateway {
namespace {

void appendString(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void appendNumber(std::string& out, double x) {
  if (std::isnan(x)) {
    out += "\"NaN\"";
  } else if (std::isinf(x)) {
    out += x > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", x);
  }
}

}  // namespace

std::string renderTelemetryJson(const Telemetry& reading) {
  std::string out = "{\"sensor\":";
  appendString(out, reading.sensor.str());
  fmt::format_to(std::back_inserter(out), ",\"ts\":{}", reading.ts_ns);
  if (reading.values.size() == 1) {
    out += ",\"value\":";
    appendNumber(out, reading.values.front());
  } else {
    out += ",\"values\":[";
    for (std::size_t i = 0; i < reading.values.size(); ++i) {
      if (i > 0) out += ',';
      appendNumber(out, reading.values[i]);
    }
    fmt::format_to(std::back_inserter(out), "],\"period_ns\":{}", reading.sample_period_ns);
  }
  out += ",\"quality\":";
  appendString(out, qualityName(reading.quality));
  if (!reading.flag.empty()) {
    out += ",\"flag\":";
    appendString(out, reading.flag);
  }
  out += '}';
  return out;
}

}  // namespace sie::gateway
