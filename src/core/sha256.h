// SHA-256 of content-addressed artifacts (models, executables), as lower-case hex.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace sie {

std::string sha256Hex(std::span<const std::uint8_t> bytes);

}  // namespace sie
