#include "core/secret_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace sie {

Result<std::string> readSecretFile(const std::string& path, const std::string& key,
                                   const std::string& where) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    return fail(Errc::kNotFound,
                fmt::format("cannot read {} '{}': {}", key, path, std::strerror(errno)), where);
  }
  char buffer[1024];
  std::string line;
  if (std::fgets(buffer, sizeof buffer, file) != nullptr) line = buffer;
  std::fclose(file);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace sie
