#include "sie/symbol.h"

#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace sie {
namespace {

struct Table {
  std::shared_mutex mu;
  std::deque<std::string> texts;  // deque: element addresses stay put as it grows
  std::unordered_map<std::string_view, std::uint32_t> ids;
};

Table& table() {
  static auto* t = new Table();  // never destroyed: symbols outlive every static
  return *t;
}

}  // namespace

Symbol Symbol::intern(std::string_view text) {
  if (text.empty()) return {};
  Table& t = table();
  {
    std::shared_lock lock(t.mu);
    if (auto it = t.ids.find(text); it != t.ids.end()) return Symbol(it->second);
  }
  std::unique_lock lock(t.mu);
  if (auto it = t.ids.find(text); it != t.ids.end()) return Symbol(it->second);
  t.texts.emplace_back(text);
  auto id = static_cast<std::uint32_t>(t.texts.size());
  t.ids.emplace(t.texts.back(), id);
  return Symbol(id);
}

Symbol Symbol::find(std::string_view text) {
  Table& t = table();
  std::shared_lock lock(t.mu);
  auto it = t.ids.find(text);
  return it == t.ids.end() ? Symbol() : Symbol(it->second);
}

std::uint32_t Symbol::count() {
  Table& t = table();
  std::shared_lock lock(t.mu);
  return static_cast<std::uint32_t>(t.texts.size());
}

std::string_view Symbol::str() const {
  if (id_ == 0) return {};
  Table& t = table();
  std::shared_lock lock(t.mu);
  return t.texts[id_ - 1];
}

}  // namespace sie
