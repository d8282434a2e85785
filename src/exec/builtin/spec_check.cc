#include "exec/builtin/spec_check.h"

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

namespace sie::builtin {
namespace {

std::string rangeText(const ParamSpec& p) {
  const bool has_min = std::isfinite(p.min);
  const bool has_max = std::isfinite(p.max);
  if (has_min && has_max) {
    return fmt::format("in {}{}, {}{}", p.min_open ? '(' : '[', p.min, p.max,
                       p.max_open ? ')' : ']');
  }
  if (has_min) return fmt::format("{} {}", p.min_open ? ">" : ">=", p.min);
  return fmt::format("{} {}", p.max_open ? "<" : "<=", p.max);
}

bool inRange(const ParamSpec& p, double v) {
  const bool above = p.min_open ? v > p.min : v >= p.min;
  const bool below = p.max_open ? v < p.max : v <= p.max;
  return above && below;
}

template <typename Items, typename NameOf>
std::string joinNames(const Items& items, NameOf name_of) {
  std::set<std::string_view> sorted;
  for (const auto& item : items) sorted.insert(name_of(item));
  std::string out;
  for (auto n : sorted) out += fmt::format("{}{}", out.empty() ? "" : ", ", n);
  return out.empty() ? "none" : out;
}

Result<Params> checkParams(std::string_view handler, const HandlerDef& def,
                           const FunctionSpec& spec) {
  for (const auto& entry : spec.params) {
    const std::string& name = entry.first;
    const bool known = std::any_of(def.params.begin(), def.params.end(),
                                   [&](const ParamSpec& p) { return p.name == name; });
    if (!known) {
      return fail(
          Errc::kInvalidArgument,
          fmt::format("spec.params.{} is not a parameter of builtin handler '{}' (known: {})", name,
                      handler, joinNames(def.params, [](const ParamSpec& p) { return p.name; })));
    }
  }
  Params out;
  for (const ParamSpec& p : def.params) {
    auto it = spec.params.find(std::string(p.name));
    if (it == spec.params.end()) {
      if (p.need == ParamSpec::Need::kRequired) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("spec.params.{} is required ({})", p.name, p.description));
      }
      if (p.need == ParamSpec::Need::kDefault) out.emplace(std::string(p.name), p.fallback);
      continue;
    }
    const double v = it->second;
    if (!std::isfinite(v)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("spec.params.{} must be a finite number (got {})", p.name, v));
    }
    if (p.integer && v != std::trunc(v)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("spec.params.{} must be a whole number (got {})", p.name, v));
    }
    if (!inRange(p, v)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("spec.params.{} must be {} (got {})", p.name, rangeText(p), v));
    }
    out.emplace(std::string(p.name), v);
  }
  return out;
}

Status checkBindings(std::string_view handler, const HandlerDef& def, const FunctionSpec& spec) {
  std::set<std::string_view> seen;
  for (const InputBinding& b : spec.inputs) {
    if (!seen.insert(b.name).second) {
      return fail(Errc::kInvalidArgument, fmt::format("spec.inputs.{} is declared twice", b.name));
    }
    auto it = std::find_if(def.bindings.begin(), def.bindings.end(),
                           [&](const BindingSpec& s) { return s.name == b.name; });
    if (it == def.bindings.end()) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("spec.inputs.{} is not used by builtin handler '{}' (known: {})",
                              b.name, handler, joinNames(def.bindings, [](const BindingSpec& s) {
                                return s.name;
                              })));
    }
    if (b.kind != it->kind) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("spec.inputs.{} must be a {} binding (got {})", b.name,
                              kindName(it->kind), kindName(b.kind)));
    }
    if (b.kind == InputBinding::Kind::kWindow && b.last < it->min_last) {
      return fail(Errc::kInvalidArgument, fmt::format("spec.inputs.{}.last must be >= {} (got {})",
                                                      b.name, it->min_last, b.last));
    }
    if (b.kind == InputBinding::Kind::kKv && b.key.empty()) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("spec.inputs.{}.key must not be empty", b.name));
    }
  }
  for (const BindingSpec& s : def.bindings) {
    if (s.required && !seen.contains(s.name)) {
      return fail(
          Errc::kInvalidArgument,
          fmt::format("builtin handler '{}' needs a {} binding named '{}' in spec.inputs ({})",
                      handler, kindName(s.kind), s.name, s.description));
    }
  }
  return ok();
}

}  // namespace

Result<Params> checkSpec(std::string_view handler, const HandlerDef& def,
                         const FunctionSpec& spec) {
  auto at = [&](const Error& e) { return fail(e.code, e.message, spec.source_file); };
  auto params = checkParams(handler, def, spec);
  if (!params) return at(params.error());
  if (auto bound = checkBindings(handler, def, spec); !bound) return at(bound.error());
  if (def.check) {
    if (auto checked = def.check(spec, *params); !checked) return at(checked.error());
  }
  return params;
}

const InputBinding* findBinding(const FunctionSpec& spec, std::string_view name) {
  for (const InputBinding& b : spec.inputs) {
    if (b.name == name) return &b;
  }
  return nullptr;
}

std::optional<double> optionalParam(const Params& params, std::string_view name) {
  auto it = params.find(name);
  return it == params.end() ? std::nullopt : std::optional<double>(it->second);
}

std::string_view kindName(InputBinding::Kind kind) {
  return kind == InputBinding::Kind::kWindow ? "window" : "kv";
}

}  // namespace sie::builtin
