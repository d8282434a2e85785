// Lower-casing of protocol text (header names, host names, options): ASCII only, the same in
// every locale.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace sie {

inline std::string asciiLower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
  });
  return out;
}

}  // namespace sie
