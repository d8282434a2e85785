// Whole files read into memory and written durably, with the errors every caller would otherwise
// phrase itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "sie/result.h"

namespace sie {

// The file's bytes. Errors carry the path as `where`: kNotFound "no such file",
// kInvalidArgument "not a regular file" or "larger than N bytes", kIo "cannot open: REASON" or
// "cannot read".
Result<std::string> readFileText(const std::string& path, std::uintmax_t max_bytes = UINTMAX_MAX);

// Writes `text` to `path` durably and whole: a temporary file with `mode`, fsync, rename over
// `path`, fsync of the folder (created when missing). Every failed step is an error.
Status writeFileAtomically(const std::string& path, std::string_view text, mode_t mode = 0644);

// Makes the entries of `dir` (files created, renamed or removed) durable.
Status syncDir(const std::string& dir);

// Makes the bytes of the file at `path` durable.
Status syncFile(const std::string& path);

}  // namespace sie
