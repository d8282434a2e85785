#include "core/config_table.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace sie {
namespace {

std::string_view typeName(ConfigKey::Type type) {
  switch (type) {
    case ConfigKey::Type::kString:
      return "string";
    case ConfigKey::Type::kInt:
      return "integer";
    case ConfigKey::Type::kDouble:
      return "number";
    case ConfigKey::Type::kBool:
      return "boolean";
    case ConfigKey::Type::kDuration:
      return "duration";
    case ConfigKey::Type::kStringList:
      return "list of strings";
    case ConfigKey::Type::kTableList:
      return "list of maps";
  }
  return "value";
}

// "1 to 10000000", "0.5 or more", "at most 100".
std::string rangeText(const ConfigKey& key) {
  const auto number = [&](double v) {
    return key.type == ConfigKey::Type::kInt ? fmt::format("{}", static_cast<std::int64_t>(v))
                                             : fmt::format("{}", v);
  };
  if (std::isinf(key.min)) return "at most " + number(key.max);
  if (std::isinf(key.max)) return number(key.min) + " or more";
  return number(key.min) + " to " + number(key.max);
}

Status checkRange(const ConfigKey& key, double value, const std::string& text,
                  const std::string& where) {
  const bool unbounded = std::isinf(key.min) && std::isinf(key.max);
  if (unbounded || (value >= key.min && value <= key.max)) return ok();  // NaN: the key's own check
  return fail(Errc::kInvalidArgument,
              fmt::format("'{}' must be {} (got {})", key.name, rangeText(key), text), where);
}

Status checkScalar(const ConfigKey& key, const std::string& text, const std::string& where) {
  auto bad = [&] {
    return fail(Errc::kInvalidArgument,
                fmt::format("'{}' must be a {} (got '{}')", key.name, typeName(key.type), text),
                where);
  };
  switch (key.type) {
    case ConfigKey::Type::kString:
      return ok();
    case ConfigKey::Type::kInt: {
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size()) return bad();
      return checkRange(key, static_cast<double>(v), text, where);
    }
    case ConfigKey::Type::kDouble: {
      double v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size()) return bad();
      return checkRange(key, v, text, where);
    }
    case ConfigKey::Type::kBool:
      if (text == "true" || text == "false" || text == "yes" || text == "no" || text == "on" ||
          text == "off") {
        return ok();
      }
      return bad();
    case ConfigKey::Type::kDuration: {
      auto d = parseDuration(text);
      if (!d)
        return fail(Errc::kInvalidArgument, fmt::format("'{}': {}", key.name, d.error().message),
                    where);
      return ok();
    }
    case ConfigKey::Type::kStringList:
    case ConfigKey::Type::kTableList:
      return bad();
  }
  return ok();
}

}  // namespace

std::string yamlWhere(std::string_view file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return std::string(file);
  return fmt::format("{}:{}", file, mark.line + 1);
}

Result<ConfigValues> readConfig(const YAML::Node& block, std::span<const ConfigKey> table,
                                std::string_view file, std::span<const std::string_view> ignored) {
  const std::string where = yamlWhere(file, block);
  if (!block.IsMap()) return fail(Errc::kInvalidArgument, "expected a map of settings", where);
  std::map<std::string, std::string, std::less<>> scalars;
  std::map<std::string, std::vector<std::string>, std::less<>> lists;
  std::map<std::string, std::vector<ConfigValues>, std::less<>> tables;
  std::vector<std::string> seen;
  for (const auto& entry : block) {
    const auto name = entry.first.as<std::string>();
    // YAML parsers keep one of two equal keys silently; a repeated key is almost always a mistake.
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return fail(Errc::kInvalidArgument, fmt::format("key '{}' is set twice", name),
                  yamlWhere(file, entry.first));
    }
    seen.push_back(name);
    if (std::find(ignored.begin(), ignored.end(), name) != ignored.end()) continue;
    const auto key = std::find_if(table.begin(), table.end(),
                                  [&](const ConfigKey& k) { return k.name == name; });
    const std::string at = yamlWhere(file, entry.first);
    if (key == table.end()) {
      std::string known;
      for (const auto& k : table) known += fmt::format("{}{}", known.empty() ? "" : ", ", k.name);
      return fail(Errc::kInvalidArgument,
                  fmt::format("unknown key '{}' (known keys: {})", name, known), at);
    }
    if (key->type == ConfigKey::Type::kStringList) {
      if (!entry.second.IsSequence()) {
        return fail(Errc::kInvalidArgument, fmt::format("'{}' must be a list", name), at);
      }
      std::vector<std::string> items;
      for (const auto& item : entry.second) {
        if (!item.IsScalar()) {
          return fail(Errc::kInvalidArgument, fmt::format("'{}' items must be strings", name), at);
        }
        items.push_back(item.as<std::string>());
      }
      lists.emplace(name, std::move(items));
      continue;
    }
    if (key->type == ConfigKey::Type::kTableList) {
      if (!entry.second.IsSequence()) {
        return fail(Errc::kInvalidArgument, fmt::format("'{}' must be a list of maps", name), at);
      }
      std::vector<ConfigValues> items;
      for (const auto& item : entry.second) {
        items.push_back(SIE_TRY(readConfig(item, key->fields(), file)));
      }
      tables.emplace(name, std::move(items));
      continue;
    }
    if (!entry.second.IsScalar()) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("'{}' must be a {}", name, typeName(key->type)), at);
    }
    auto text = entry.second.as<std::string>();
    SIE_CHECK(checkScalar(*key, text, at));
    scalars.emplace(name, std::move(text));
  }
  for (const auto& key : table) {
    if (scalars.contains(key.name) || lists.contains(key.name) || tables.contains(key.name))
      continue;
    if (key.required) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("missing required key '{}' ({})", key.name, key.description), where);
    }
    if (!key.fallback.empty()) scalars.emplace(std::string(key.name), std::string(key.fallback));
  }
  return ConfigValues(where, std::move(scalars), std::move(lists), std::move(tables));
}

std::string describeConfig(std::span<const ConfigKey> table) {
  std::string out;
  for (const auto& key : table) {
    const bool bounded = !std::isinf(key.min) || !std::isinf(key.max);
    out += fmt::format("  {} ({}{}{}{}): {}\n", key.name, typeName(key.type),
                       key.required ? ", required" : "",
                       key.fallback.empty() ? "" : fmt::format(", default {}", key.fallback),
                       bounded ? ", " + rangeText(key) : "", key.description);
    if (key.type == ConfigKey::Type::kTableList && key.fields) {
      const std::string inner = describeConfig(key.fields());
      std::size_t start = 0;
      while (start < inner.size()) {
        const std::size_t end = inner.find('\n', start);  // every line ends in '\n'
        out += "    " + inner.substr(start, end + 1 - start);
        start = end + 1;
      }
    }
  }
  return out;
}

namespace {

// A table cell: pipes would end it, newlines would end the row.
std::string cell(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') {
      out += "\\|";
    } else {
      out += c == '\n' ? ' ' : c;
    }
  }
  return out;
}

void markdownRows(std::span<const ConfigKey> table, const std::string& prefix, std::string& out) {
  for (const auto& key : table) {
    const bool bounded = !std::isinf(key.min) || !std::isinf(key.max);
    out += fmt::format(
        "| `{}{}` | {} | {} | {} | {} |\n", prefix, key.name, typeName(key.type),
        key.required ? "required" : (key.fallback.empty() ? "" : "`" + cell(key.fallback) + "`"),
        bounded ? rangeText(key) : "", cell(key.description));
    if (key.type == ConfigKey::Type::kTableList && key.fields) {
      markdownRows(key.fields(), prefix + std::string(key.name) + "[].", out);
    }
  }
}

}  // namespace

std::string markdownConfig(std::span<const ConfigKey> table, std::string_view prefix) {
  std::string out =
      "| key | type | default | allowed | meaning |\n| --- | --- | --- | --- | --- |\n";
  markdownRows(table, std::string(prefix), out);
  return out;
}

}  // namespace sie
