// Glob patterns over names whose segments are split by '/': SPIFFE IDs, token identities and
// function names, as a policy file writes them.
//
//   *    within a segment: any run of characters but '/' ("client/ops-*", "pump-*")
//   **   a whole segment: any number of segments, none included ("spiffe://plant-a/**")
//
// Matching is greedy with one backtracking point per kind of star: no recursion, and at worst the
// product of the two lengths, so a hostile name cannot make it slow.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sie/result.h"

namespace sie::security {

class NamePattern {
 public:
  static constexpr std::size_t kMaxLength = 512;

  // Refuses an empty pattern, one longer than kMaxLength, spaces and control characters, and
  // '**' that is not a whole segment.
  static Result<NamePattern> parse(std::string_view pattern);

  [[nodiscard]] bool matches(std::string_view name) const;
  [[nodiscard]] const std::string& text() const { return text_; }

 private:
  struct Segment {
    std::string glob;  // may hold '*'
    bool any_depth = false;
    [[nodiscard]] bool matches(std::string_view segment) const;
  };

  std::string text_;
  bool literal_ = false;  // no wildcard: one comparison
  std::vector<Segment> segments_;
};

}  // namespace sie::security
