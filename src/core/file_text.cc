#include "core/file_text.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace sie {
namespace fs = std::filesystem;

Result<std::string> readFileText(const std::string& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) return fail(Errc::kNotFound, "no such file", path);
  if (!fs::is_regular_file(status)) return fail(Errc::kInvalidArgument, "not a regular file", path);
  const std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > max_bytes)
    return fail(Errc::kInvalidArgument, fmt::format("larger than {} bytes", max_bytes), path);
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::kIo, fmt::format("cannot open: {}", std::strerror(errno)), path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail(Errc::kIo, "cannot read", path);
  return std::move(text).str();
}

}  // namespace sie
