#include "core/sha256.h"

#include <array>
#include <cstdio>
#include <iterator>
#include <memory>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace sie {
namespace {

std::string hex(const unsigned char* digest, unsigned int length) {
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i)
    fmt::format_to(std::back_inserter(out), "{:02x}", digest[i]);
  return out;
}

}  // namespace

std::string sha256Hex(std::span<const std::uint8_t> bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return hex(digest.data(), length);
}

Result<std::string> sha256File(const std::string& path) {
  const std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                             &std::fclose);
  if (!file) return fail(Errc::kNotFound, fmt::format("cannot read {}", path));
  const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::array<unsigned char, 64 * 1024> block{};
  std::size_t n = 0;
  while ((n = std::fread(block.data(), 1, block.size(), file.get())) > 0) {
    EVP_DigestUpdate(ctx.get(), block.data(), n);
  }
  if (std::ferror(file.get()) != 0) return fail(Errc::kIo, fmt::format("cannot read {}", path));
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest.data(), &length);
  return hex(digest.data(), length);
}

}  // namespace sie
