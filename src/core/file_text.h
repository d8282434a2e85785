// Whole files read into memory and written durably, with the errors every caller would otherwise
// phrase itself.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/env.h"
#include "sie/result.h"

namespace sie {

// The file's bytes. Errors carry the path as `where`: kNotFound "no such file",
// kInvalidArgument "not a regular file" or "larger than N bytes", kIo "cannot open: REASON" or
// "cannot read".
Result<std::string> readFileText(const std::string& path, std::uintmax_t max_bytes = UINTMAX_MAX);

// Writes `text` to `path` durably and whole: a temporary file with `mode`, fsync, rename over
// `path`, fsync of the folder (created when missing). Every failed step is an error, and leaves
// `path` as it was and no temporary file behind.
Status writeFileAtomically(const std::string& path, std::string_view text, mode_t mode = 0644,
                           const Env& env = Env::system());

// Writes all of `text` to `fd` and fsyncs it; `path` names it in errors.
Status writeAllSynced(int fd, std::string_view text, const std::string& path,
                      const Env& env = Env::system());

// Makes the entries of `dir` (files created, renamed or removed) durable.
Status syncDir(const std::string& dir, const Env& env = Env::system());

// Makes the bytes of the file at `path` durable.
Status syncFile(const std::string& path, const Env& env = Env::system());

}  // namespace sie
