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
    case ConfigKey::Type::kSize:
      return "size";
    case ConfigKey::Type::kStringList:
      return "list of strings";
    case ConfigKey::Type::kNumberList:
      return "list of numbers";
    case ConfigKey::Type::kStringMap:
      return "map of strings";
    case ConfigKey::Type::kTableList:
      return "list of maps";
  }
  return "value";
}

// "an integer", "a number".
std::string withArticle(std::string_view noun) {
  const bool vowel =
      !noun.empty() && std::string_view("aeiou").find(noun.front()) != std::string_view::npos;
  return fmt::format("{} {}", vowel ? "an" : "a", noun);
}

// 60000000000 ns -> "1m", 1500000 ns -> "1500us": the largest unit that divides it exactly.
std::string durationText(double ns) {
  if (ns == 0) return "0";
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"h", 3600e9}, {"m", 60e9}, {"s", 1e9}, {"ms", 1e6}, {"us", 1e3}};
  for (const auto& [unit, scale] : kUnits) {
    if (ns != 0 && std::fmod(ns, scale) == 0) return fmt::format("{}{}", ns / scale, unit);
  }
  return fmt::format("{}ns", ns);
}

// 16777216 -> "16Mi": the largest binary unit that divides it exactly.
std::string sizeText(double bytes) {
  if (bytes == 0) return "0";
  static constexpr std::pair<std::string_view, double> kUnits[] = {
      {"Ti", 1099511627776.0}, {"Gi", 1073741824.0}, {"Mi", 1048576.0}, {"Ki", 1024.0}};
  for (const auto& [unit, scale] : kUnits) {
    if (bytes != 0 && std::fmod(bytes, scale) == 0) return fmt::format("{}{}", bytes / scale, unit);
  }
  return fmt::format("{}", bytes);
}

// The items of a oneOf("a|b|c") list.
std::vector<std::string_view> choiceItems(std::string_view choices) {
  std::vector<std::string_view> items;
  std::size_t start = 0;
  while (start <= choices.size()) {
    const std::size_t bar = std::min(choices.find('|', start), choices.size());
    items.push_back(choices.substr(start, bar - start));
    start = bar + 1;
  }
  return items;
}

// "binary or structured", "hold, linear or fit".
std::string choiceText(std::string_view choices) {
  const auto items = choiceItems(choices);
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " or " : ", ";
    out += items[i];
  }
  return out;
}

bool isChoice(std::string_view choices, std::string_view value) {
  const auto items = choiceItems(choices);
  return std::find(items.begin(), items.end(), value) != items.end();
}

bool bounded(const ConfigKey& key) { return !std::isinf(key.min) || !std::isinf(key.max); }

// "1 to 10000000", "0.5 or more", "at most 100", "1ms to 1m", "0 or 16Mi to 1Ti".
std::string rangeText(const ConfigKey& key) {
  const auto number = [&](double v) {
    switch (key.type) {
      case ConfigKey::Type::kInt:
        return fmt::format("{}", static_cast<std::int64_t>(v));
      case ConfigKey::Type::kDuration:
        return durationText(v);
      case ConfigKey::Type::kSize:
        return sizeText(v);
      default:
        return fmt::format("{}", v);
    }
  };
  std::string range;
  if (std::isinf(key.min)) {
    range = "at most " + number(key.max);
  } else if (key.min_excluded) {
    range = "more than " + number(key.min);
    if (!std::isinf(key.max)) range += " and at most " + number(key.max);
  } else if (std::isinf(key.max)) {
    range = number(key.min) + " or more";
  } else {
    range = number(key.min) + " to " + number(key.max);
  }
  return key.zero_allowed ? "0 or " + range : range;
}

// What a key allows, for messages and docs: its range or its choices ("" when anything goes).
std::string allowedText(const ConfigKey& key) {
  if (!key.choices.empty()) return choiceText(key.choices);
  return bounded(key) ? rangeText(key) : "";
}

Status checkRange(const ConfigKey& key, std::string_view shown, double value,
                  const std::string& text, const std::string& where) {
  const bool above_min = key.min_excluded ? value > key.min : value >= key.min;
  if (!bounded(key) || (above_min && value <= key.max) || (key.zero_allowed && value == 0)) {
    return ok();  // NaN: the key's own check
  }
  return fail(Errc::kInvalidArgument,
              fmt::format("'{}' must be {} (got {})", shown, rangeText(key), text), where);
}

Status checkScalar(const ConfigKey& key, std::string_view shown, const std::string& text,
                   const std::string& where) {
  auto bad = [&] {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("'{}' must be {} (got '{}')", shown, withArticle(typeName(key.type)), text),
        where);
  };
  switch (key.type) {
    case ConfigKey::Type::kString:
      if (key.choices.empty() || isChoice(key.choices, text)) return ok();
      return fail(Errc::kInvalidArgument,
                  fmt::format("'{}' must be {} (got '{}')", shown, choiceText(key.choices), text),
                  where);
    case ConfigKey::Type::kInt: {
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size()) return bad();
      return checkRange(key, shown, static_cast<double>(v), text, where);
    }
    case ConfigKey::Type::kDouble: {
      double v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size()) return bad();
      if (!std::isfinite(v)) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("'{}' must be a finite number (got '{}')", shown, text), where);
      }
      return checkRange(key, shown, v, text, where);
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
        return fail(Errc::kInvalidArgument, fmt::format("'{}': {}", shown, d.error().message),
                    where);
      return checkRange(key, shown, static_cast<double>(d->count()), text, where);
    }
    case ConfigKey::Type::kSize: {
      auto size = parseSize(text);
      if (!size)
        return fail(Errc::kInvalidArgument, fmt::format("'{}': {}", shown, size.error().message),
                    where);
      return checkRange(key, shown, static_cast<double>(*size), text, where);
    }
    case ConfigKey::Type::kStringList:
    case ConfigKey::Type::kNumberList:
    case ConfigKey::Type::kStringMap:
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
                                std::string_view file, std::span<const std::string_view> ignored,
                                std::string_view path) {
  const auto shown = [path](std::string_view name) {
    return path.empty() ? std::string(name) : fmt::format("{}.{}", path, name);
  };
  const std::string where = yamlWhere(file, block);
  if (!block.IsMap()) return fail(Errc::kInvalidArgument, "expected a map of settings", where);
  std::map<std::string, std::string, std::less<>> scalars;
  std::map<std::string, std::vector<std::string>, std::less<>> lists;
  std::map<std::string, std::vector<ConfigValues>, std::less<>> tables;
  std::map<std::string, std::map<std::string, std::string>, std::less<>> maps;
  std::vector<std::string> seen;
  for (const auto& entry : block) {
    const auto name = entry.first.as<std::string>();
    // YAML parsers keep one of two equal keys silently; a repeated key is almost always a mistake.
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      return fail(Errc::kInvalidArgument, fmt::format("key '{}' is set twice", shown(name)),
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
                  fmt::format("unknown key '{}' (known keys: {})", shown(name), known), at);
    }
    if (key->type == ConfigKey::Type::kStringList || key->type == ConfigKey::Type::kNumberList) {
      const bool numbers = key->type == ConfigKey::Type::kNumberList;
      if (!entry.second.IsSequence()) {
        return fail(
            Errc::kInvalidArgument,
            fmt::format("'{}' must be a list of {}", shown(name), numbers ? "numbers" : "strings"),
            at);
      }
      std::vector<std::string> items;
      for (const auto& item : entry.second) {
        if (!item.IsScalar()) {
          return fail(
              Errc::kInvalidArgument,
              fmt::format("'{}' items must be {}", shown(name), numbers ? "numbers" : "strings"),
              at);
        }
        auto text = item.as<std::string>();
        double value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (numbers &&
            (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value))) {
          return fail(Errc::kInvalidArgument,
                      fmt::format("'{}' must be a list of numbers (got '{}')", shown(name), text),
                      yamlWhere(file, item));
        }
        items.push_back(std::move(text));
      }
      lists.emplace(name, std::move(items));
      continue;
    }
    if (key->type == ConfigKey::Type::kStringMap) {
      if (!entry.second.IsMap()) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("'{}' must be a map of strings", shown(name)), at);
      }
      std::map<std::string, std::string> items;
      for (const auto& item : entry.second) {
        if (!item.second.IsScalar()) {
          return fail(
              Errc::kInvalidArgument,
              fmt::format("'{}.{}' must be a string", shown(name), item.first.as<std::string>()),
              yamlWhere(file, item.second));
        }
        items[item.first.as<std::string>()] = item.second.as<std::string>();
      }
      maps.emplace(name, std::move(items));
      continue;
    }
    if (key->type == ConfigKey::Type::kTableList) {
      if (!entry.second.IsSequence()) {
        return fail(Errc::kInvalidArgument, fmt::format("'{}' must be a list of maps", shown(name)),
                    at);
      }
      std::vector<ConfigValues> items;
      for (const auto& item : entry.second) {
        items.push_back(SIE_TRY(readConfig(item, key->fields(), file, {}, shown(name) + "[]")));
      }
      tables.emplace(name, std::move(items));
      continue;
    }
    if (!entry.second.IsScalar()) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("'{}' must be {}", shown(name), withArticle(typeName(key->type))),
                  at);
    }
    auto text = entry.second.as<std::string>();
    SIE_CHECK(checkScalar(*key, shown(name), text, at));
    scalars.emplace(name, std::move(text));
  }
  for (const auto& key : table) {
    if (scalars.contains(key.name) || lists.contains(key.name) || tables.contains(key.name) ||
        maps.contains(key.name)) {
      continue;
    }
    if (key.required) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("missing required key '{}' ({})", shown(key.name), key.description),
                  where);
    }
    if (!key.fallback.empty()) scalars.emplace(std::string(key.name), std::string(key.fallback));
  }
  return ConfigValues(where, std::move(scalars), std::move(lists), std::move(tables),
                      std::move(maps));
}

Status checkDefaults(std::span<const ConfigKey> table) {
  for (const auto& key : table) {
    if (key.type == ConfigKey::Type::kTableList && key.fields) {
      SIE_CHECK(checkDefaults(key.fields()));
      continue;
    }
    const bool scalar = key.type != ConfigKey::Type::kStringList &&
                        key.type != ConfigKey::Type::kNumberList &&
                        key.type != ConfigKey::Type::kStringMap;
    if (key.fallback.empty() || !scalar) continue;
    SIE_CHECK(checkScalar(key, key.name, std::string(key.fallback), "the default"));
  }
  return ok();
}

std::string describeConfig(std::span<const ConfigKey> table) {
  std::string out;
  for (const auto& key : table) {
    const std::string allowed = allowedText(key);
    out += fmt::format("  {} ({}{}{}{}): {}\n", key.name, typeName(key.type),
                       key.required ? ", required" : "",
                       key.fallback.empty() ? "" : fmt::format(", default {}", key.fallback),
                       allowed.empty() ? "" : ", " + allowed, key.description);
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
    out += fmt::format(
        "| `{}{}` | {} | {} | {} | {} |\n", prefix, key.name, typeName(key.type),
        key.required ? "required" : (key.fallback.empty() ? "" : "`" + cell(key.fallback) + "`"),
        cell(allowedText(key)), cell(key.description));
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
