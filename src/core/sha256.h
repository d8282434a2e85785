// SHA-256 of content-addressed artifacts (models, executables), as lower-case hex.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "sie/result.h"

namespace sie {

std::string sha256Hex(std::span<const std::uint8_t> bytes);

// Of a file's bytes, read in blocks (an uploaded model may be larger than memory should hold).
Result<std::string> sha256File(const std::string& path);

}  // namespace sie
