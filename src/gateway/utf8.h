// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <string_view>

namespace sie::gateway {

// Length of the valid UTF-8 sequence starting at text[pos] (1..4), or 0 when it is invalid.
std::size_t utf8SequenceLength(std::string_view text, std::size_t pos);

bool isValidUtf8(std::string_view text);

}  // namespace sie::gateway
