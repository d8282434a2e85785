// A whole file read into memory, with the errors every caller would otherwise phrase itself.
#pragma once

#include <cstdint>
#include <string>

#include "sie/result.h"

namespace sie {

// The file's bytes. Errors carry the path as `where`: kNotFound "no such file",
// kInvalidArgument "not a regular file" or "larger than N bytes", kIo "cannot open: REASON" or
// "cannot read".
Result<std::string> readFileText(const std::string& path, std::uintmax_t max_bytes = UINTMAX_MAX);

}  // namespace sie
