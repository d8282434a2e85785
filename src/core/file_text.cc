#include "core/file_text.h"

#include <fcntl.h>
#include <unistd.h>

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

namespace {

// fsync of what `path` opened with `flags` names.
Status syncOpened(const std::string& path, int flags, const Env& env) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return fail(Errc::kIo, fmt::format("cannot open: {}", std::strerror(errno)), path);
  const bool synced = env.fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!synced) return fail(Errc::kIo, fmt::format("cannot sync: {}", std::strerror(err)), path);
  return ok();
}

}  // namespace

Status syncDir(const std::string& dir, const Env& env) {
  return syncOpened(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY, env);
}

Status syncFile(const std::string& path, const Env& env) { return syncOpened(path, O_RDONLY, env); }

Status writeAllSynced(int fd, std::string_view text, const std::string& path, const Env& env) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = env.write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Errc::kIo, fmt::format("cannot write: {}", std::strerror(errno)), path);
    done += static_cast<std::size_t>(n);
  }
  if (env.fsync(fd) != 0) {
    return fail(Errc::kIo, fmt::format("cannot sync: {}", std::strerror(errno)), path);
  }
  return ok();
}

Status writeFileAtomically(const std::string& path, std::string_view text, mode_t mode,
                           const Env& env) {
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  if (ec) {
    return fail(Errc::kIo, fmt::format("cannot create the folder: {}", ec.message()),
                target.parent_path().string());
  }
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a leftover of a crash, perhaps with another mode
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return fail(Errc::kIo, fmt::format("cannot write: {}", std::strerror(errno)), tmp);
  Status written = writeAllSynced(fd, text, tmp, env);
  ::close(fd);
  if (written && ::rename(tmp.c_str(), path.c_str()) != 0) {
    written = fail(Errc::kIo, fmt::format("cannot replace: {}", std::strerror(errno)), path);
  }
  if (!written) {
    ::unlink(tmp.c_str());
    return written;
  }
  return syncDir(target.has_parent_path() ? target.parent_path().string() : ".", env);
}

}  // namespace sie
