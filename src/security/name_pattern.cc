#include "security/name_pattern.h"

#include <algorithm>

#include <fmt/format.h>

namespace sie::security {
namespace {

constexpr std::size_t kNone = std::string_view::npos;

// '*' globbing within one segment: greedy, back to the last star on a mismatch.
bool globMatches(std::string_view glob, std::string_view text) {
  std::size_t g = 0;
  std::size_t t = 0;
  std::size_t star = kNone;
  std::size_t mark = 0;
  while (t < text.size()) {
    if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = t;
    } else if (g < glob.size() && glob[g] == text[t]) {
      ++g;
      ++t;
    } else if (star != kNone) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

}  // namespace

bool NamePattern::Segment::matches(std::string_view segment) const {
  if (glob == "*") return true;
  return globMatches(glob, segment);
}

Result<NamePattern> NamePattern::parse(std::string_view pattern) {
  if (pattern.empty()) return fail(Errc::kInvalidArgument, "the pattern is empty");
  if (pattern.size() > kMaxLength) {
    return fail(Errc::kInvalidArgument,
                fmt::format("the pattern is longer than {} characters", kMaxLength));
  }
  if (std::any_of(pattern.begin(), pattern.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 127; })) {
    return fail(Errc::kInvalidArgument,
                fmt::format("'{}' holds a space or a control character", pattern));
  }
  NamePattern p;
  p.text_ = std::string(pattern);
  p.literal_ = pattern.find('*') == std::string_view::npos;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = pattern.find('/', start);
    const std::string_view segment = pattern.substr(start, slash == kNone ? kNone : slash - start);
    const bool any_depth = segment == "**";
    if (!any_depth && segment.find("**") != std::string_view::npos) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("'{}': '**' must be a whole segment (between slashes); '*' matches "
                              "within a segment",
                              pattern));
    }
    p.segments_.push_back({std::string(segment), any_depth});
    if (slash == kNone) break;
    start = slash + 1;
  }
  return p;
}

bool NamePattern::matches(std::string_view name) const {
  if (literal_) return name == text_;
  // Segments of `name` are walked by their start; `end` is past the last one.
  const std::size_t end = name.size() + 1;
  const auto next = [&](std::size_t at) {
    const std::size_t slash = name.find('/', at);
    return slash == kNone ? end : slash + 1;
  };
  const auto segmentAt = [&](std::size_t at) {
    const std::size_t slash = name.find('/', at);
    return name.substr(at, (slash == kNone ? name.size() : slash) - at);
  };
  // The greedy wildcard walk, with '**' as the star and segments as the units.
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = kNone;
  std::size_t mark = 0;
  while (t != end) {
    if (p < segments_.size() && segments_[p].any_depth) {
      star = p++;
      mark = t;
    } else if (p < segments_.size() && segments_[p].matches(segmentAt(t))) {
      ++p;
      t = next(t);
    } else if (star != kNone) {
      p = star + 1;
      mark = next(mark);
      t = mark;
    } else {
      return false;
    }
  }
  while (p < segments_.size() && segments_[p].any_depth) ++p;
  return p == segments_.size();
}

}  // namespace sie::security
