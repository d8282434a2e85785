// Symbol: an interned string (sensor ids, function names). Interning keeps hot-path events free of
// per-event string allocations and makes per-sensor lookups an array index.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sie {

class Symbol {
 public:
  constexpr Symbol() = default;

  // Interns `text` (thread-safe). The returned symbol lives for the whole process.
  static Symbol intern(std::string_view text);
  // Looks `text` up without interning it; an empty symbol when it was never interned.
  static Symbol find(std::string_view text);
  // Number of symbols interned so far (ids are dense: 1 .. count()).
  static std::uint32_t count();

  [[nodiscard]] std::string_view str() const;
  [[nodiscard]] std::uint32_t id() const { return id_; }
  [[nodiscard]] bool empty() const { return id_ == 0; }

  friend bool operator==(Symbol a, Symbol b) { return a.id_ == b.id_; }
  friend auto operator<=>(Symbol a, Symbol b) { return a.id_ <=> b.id_; }

 private:
  explicit constexpr Symbol(std::uint32_t id) : id_(id) {}
  std::uint32_t id_ = 0;  // 0 is the empty symbol
};

}  // namespace sie

template <>
struct std::hash<sie::Symbol> {
  std::size_t operator()(sie::Symbol s) const noexcept { return std::hash<std::uint32_t>{}(s.id()); }
};
