// Registry: plugins (sources, executors, state backends, sinks) registered by name. Registering a
// name twice is a programming error and fails loudly.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sie/result.h"

namespace sie {

template <typename Entry>
class Registry {
 public:
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  Status add(std::string name, Entry entry) {
    if (entries_.contains(name)) {
      return fail(Errc::kAlreadyExists, kind_ + " '" + name + "' is registered twice");
    }
    entries_.emplace(std::move(name), std::move(entry));
    return ok();
  }

  Result<const Entry*> find(std::string_view name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::string known;
      for (const auto& [n, e] : entries_) known += (known.empty() ? "" : ", ") + n;
      return fail(Errc::kNotFound,
                  "unknown " + kind_ + " '" + std::string(name) + "' (known: " + known + ")");
    }
    return &it->second;
  }

  [[nodiscard]] std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [n, e] : entries_) out.push_back(n);
    return out;
  }

 private:
  std::string kind_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace sie
