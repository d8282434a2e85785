#include "cli/client_output.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/ascii_lower.h"

namespace sie::cli {
namespace {

std::string_view trimRight(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Plain scalars a YAML 1.1 or 1.2 reader would not take as the string itself: booleans, nulls,
// numbers, and dates or times (which start with a digit and hold only digits and separators).
bool needsQuotes(const std::string& s) {
  if (s.empty()) return true;
  static const char* const kWords[] = {"true", "false", "yes", "no",   "on",
                                       "off",  "y",     "n",   "null", "~"};
  const std::string l = asciiLower(s);
  if (std::find(std::begin(kWords), std::end(kWords), l) != std::end(kWords)) return true;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  if (end == s.c_str() + s.size() && !std::isspace(static_cast<unsigned char>(s.front())))
    return true;
  if (l == ".inf" || l == "-.inf" || l == "+.inf" || l == ".nan") return true;
  if (std::isdigit(static_cast<unsigned char>(s.front())) &&
      s.find_first_not_of("0123456789:_.-+TZtz ") == std::string::npos) {
    return true;
  }
  return false;
}

void emit(YAML::Emitter& out, const Json& value) {
  switch (value.type()) {
    case Json::value_t::object:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        break;
      }
      out << YAML::BeginMap;
      for (const auto& [key, item] : value.items()) {
        out << YAML::Key;
        if (needsQuotes(key)) out << YAML::DoubleQuoted;
        out << key << YAML::Value;
        emit(out, item);
      }
      out << YAML::EndMap;
      break;
    case Json::value_t::array:
      if (value.empty()) {
        out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        break;
      }
      out << YAML::BeginSeq;
      for (const auto& item : value) emit(out, item);
      out << YAML::EndSeq;
      break;
    case Json::value_t::string: {
      const auto& s = value.get_ref<const std::string&>();
      if (needsQuotes(s)) out << YAML::DoubleQuoted;
      out << s;
      break;
    }
    case Json::value_t::boolean:
      out << value.get<bool>();
      break;
    case Json::value_t::null:
    case Json::value_t::discarded:
      out << YAML::Null;
      break;
    default:
      // Numbers as JSON spells them (shortest round trip), not with the emitter's 17 digits.
      out << value.dump();
      break;
  }
}

std::size_t displayWidth(std::string_view s) {
  // Continuation bytes (10xxxxxx) do not start a code point.
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string stringField(const Json& body, const char* key) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace

std::string jsonToYaml(const Json& value) {
  YAML::Emitter out;
  emit(out, value);
  return out.c_str();
}

const Json& member(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string cellText(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_null()) return "-";
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string renderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size(), 0);
  for (std::size_t c = 0; c < header.size(); ++c) widths[c] = displayWidth(header[c]);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], displayWidth(row[c]));
    }
  }
  std::string out;
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      if (c > 0) text.append("   ");
      text.append(cell);
      if (c + 1 < widths.size()) text.append(widths[c] - displayWidth(cell), ' ');
    }
    out.append(trimRight(text));
    out.push_back('\n');
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

std::string renderFields(const std::vector<Field>& fields) {
  std::size_t width = 0;
  for (const auto& [key, lines] : fields) {
    if (!lines.empty()) width = std::max(width, displayWidth(key) + 1);
  }
  std::string out;
  for (const auto& [key, lines] : fields) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      const std::string label = i == 0 ? key + ":" : "";
      out.append(label);
      out.append(width + 2 - displayWidth(label), ' ');
      out.append(lines[i]);
      out.push_back('\n');
    }
  }
  return out;
}

Refusal parseRefusal(int status, std::string_view body) {
  const Json error = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  Refusal refusal;
  if (error.is_object() && error.contains("message")) {
    refusal.message = stringField(error, "message");
    refusal.field = stringField(error, "field");
    refusal.where = stringField(error, "where");
    return refusal;
  }
  // Not the node's error shape (a proxy's page, or not a sie node): its first line is the best
  // hint there is.
  std::string_view first = trimRight(body.substr(0, body.find('\n')));
  if (first.size() > 200) first = first.substr(0, 200);
  refusal.message =
      first.empty() ? fmt::format("HTTP {}", status) : fmt::format("HTTP {}: {}", status, first);
  return refusal;
}

std::string refusalText(const Refusal& refusal) {
  std::string text = refusal.message;
  if (!refusal.field.empty()) text += fmt::format(" (field: {})", refusal.field);
  if (!refusal.where.empty()) text += " at " + refusal.where;
  return text;
}

std::string documentWhere(std::string_view where, std::string_view file, int first_line) {
  constexpr std::string_view kRequest = "request";
  if (where.empty() || where == kRequest) return fmt::format("{}:{}", file, first_line);
  if (where.starts_with(kRequest) && where.size() > kRequest.size() + 1 &&
      where[kRequest.size()] == ':') {
    const std::string_view digits = where.substr(kRequest.size() + 1);
    if (digits.find_first_not_of("0123456789") == std::string_view::npos && digits.size() < 9) {
      const int line = std::atoi(std::string(digits).c_str());
      return fmt::format("{}:{}", file, first_line + line - 1);
    }
  }
  return std::string(where);
}

std::string formatUptime(double seconds) {
  const long total = std::isfinite(seconds) && seconds > 0 ? static_cast<long>(seconds) : 0;
  const long h = total / 3600;
  const long m = total % 3600 / 60;
  const long s = total % 60;
  if (h > 0) return fmt::format("{}h {:02}m {:02}s", h, m, s);
  if (m > 0) return fmt::format("{}m {:02}s", m, s);
  return fmt::format("{}s", s);
}

}  // namespace sie::cli
