// libFuzzer target: function bundle documents (FunctionBundle::parse), which a deploy sends in
// X-Sie-Bundle. A document that parses is canonical: written back, it is the same bytes, and each
// file path is relative and normal, so it can name nothing outside the function's folder.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "config/function_bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto bundle = sie::node::FunctionBundle::parse(input);
  if (!bundle) {
    if (bundle.error().message.empty()) std::abort();
    return 0;
  }
  if (bundle->text() != input || bundle->sequence < 1) std::abort();
  for (const auto& file : bundle->files) {
    const std::filesystem::path p(file.path);
    if (p.is_absolute() || p.lexically_normal().generic_string() != file.path) std::abort();
    if (p.filename().empty() || p.filename() == "..") std::abort();
  }
  if (!sie::node::matchBundle(*bundle, *bundle)) std::abort();
  return 0;
}
