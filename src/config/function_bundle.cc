#include "config/function_bundle.h"

#include <charconv>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/sha256.h"

namespace sie::node {
namespace {
namespace fs = std::filesystem;

constexpr std::string_view kHeader = "sie-bundle 1";
constexpr std::size_t kShownDifferences = 5;

bool isHexDigest(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool escaped(unsigned char c) { return c <= 0x20 || c == 0x7f || c == '%'; }

std::string escapePath(std::string_view path) {
  std::string out;
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (escaped(c)) {
      out += fmt::format("%{:02X}", c);
    } else {
      out += ch;
    }
  }
  return out;
}

std::optional<std::string> unescapePath(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c != '%') {
      if (escaped(c)) return std::nullopt;
      out += text[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3 || !escaped(value)) return std::nullopt;
    if (text.substr(i + 1, 2) != fmt::format("{:02X}", value)) return std::nullopt;  // canonical
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

// A relative path as `normal` below writes it: ".." steps only at its start (a manifest may name
// "../models/x.onnx"), no "." or empty steps, a file name last.
bool isBundlePath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  bool climbing = true;
  std::string_view last;
  for (std::size_t start = 0; start <= path.size();) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view step(path.data() + start, end - start);
    if (step.empty() || step == "." || (step == ".." && !climbing)) return false;
    climbing = step == "..";
    last = step;
    start = end + 1;
  }
  return last != "..";
}

std::string normal(const fs::path& path) {
  std::string out = path.lexically_normal().generic_string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

tl::unexpected<Error> invalid(std::size_t line, const std::string& what) {
  return fail(Errc::kInvalidArgument, fmt::format("bundle line {}: {}", line, what), "bundle");
}

using Hashed = std::map<std::string, std::string>;  // path -> sha256

Status hashFile(const std::string& path, const fs::path& local, Hashed& files) {
  if (files.contains(path)) return ok();
  if (files.size() >= kMaxBundleFiles) {
    return fail(Errc::kInvalidArgument,
                fmt::format("a function bundle holds at most {} files; keep a function's files "
                            "in a folder of their own",
                            kMaxBundleFiles),
                local.string());
  }
  files.emplace(path, SIE_TRY(sha256File(local.string())));
  return ok();
}

Status hashFolder(const std::string& path, const fs::path& local, Hashed& files) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(local, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (skippedInBundle(it->path().filename().string())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    SIE_CHECK(
        hashFile(normal(fs::path(path) / it->path().lexically_relative(local)), it->path(), files));
  }
  if (ec) {
    return fail(Errc::kIo, fmt::format("cannot list {}: {}", local.string(), ec.message()),
                local.string());
  }
  return ok();
}

}  // namespace

bool skippedInBundle(std::string_view name) {
  return name.starts_with(".") || name.ends_with(".sig") || name.ends_with(".bundle");
}

std::string FunctionBundle::text() const {
  std::string out = fmt::format("{}\nname {}\nsequence {}\nmanifest {}\n", kHeader, name, sequence,
                                manifest_sha256);
  for (const BundleFile& file : files) {
    out += fmt::format("file {} {}\n", escapePath(file.path), file.sha256);
  }
  return out;
}

Result<FunctionBundle> FunctionBundle::parse(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return fail(Errc::kInvalidArgument, "a bundle document ends with a newline", "bundle");
  }
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  if (lines.size() < 4) {
    return fail(Errc::kInvalidArgument,
                "a bundle document has the lines sie-bundle, name, sequence and manifest",
                "bundle");
  }
  if (lines[0] != kHeader) return invalid(1, fmt::format("expected '{}'", kHeader));
  FunctionBundle bundle;
  if (!lines[1].starts_with("name ") || lines[1].size() == 5 ||
      lines[1].find_first_of(" \t\r", 5) != std::string_view::npos) {
    return invalid(2, "expected 'name <function name>'");
  }
  bundle.name = std::string(lines[1].substr(5));
  const std::string_view sequence = lines[2].starts_with("sequence ") ? lines[2].substr(9) : "";
  const auto [end, ec] =
      std::from_chars(sequence.data(), sequence.data() + sequence.size(), bundle.sequence);
  if (sequence.empty() || sequence.front() == '0' || ec != std::errc() ||
      end != sequence.data() + sequence.size() || bundle.sequence < 1) {
    return invalid(3, "expected 'sequence <1 .. 9223372036854775807>'");
  }
  if (!lines[3].starts_with("manifest ") || !isHexDigest(lines[3].substr(9))) {
    return invalid(4, "expected 'manifest <sha256 as 64 lower-case hex digits>'");
  }
  bundle.manifest_sha256 = std::string(lines[3].substr(9));
  if (lines.size() - 4 > kMaxBundleFiles) {
    return fail(Errc::kInvalidArgument,
                fmt::format("a bundle lists at most {} files", kMaxBundleFiles), "bundle");
  }
  for (std::size_t i = 4; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const std::size_t space = line.rfind(' ');
    auto path = line.starts_with("file ") && space > 5 ? unescapePath(line.substr(5, space - 5))
                                                       : std::nullopt;
    if (!path || !isBundlePath(*path) || !isHexDigest(line.substr(space + 1))) {
      return invalid(i + 1, "expected 'file <relative path> <sha256>'");
    }
    if (!bundle.files.empty() && bundle.files.back().path >= *path) {
      return invalid(i + 1, "files are listed once each, sorted by path");
    }
    bundle.files.push_back({std::move(*path), std::string(line.substr(space + 1))});
  }
  return bundle;
}

Result<FunctionBundle> hashBundle(const FunctionSpec& spec, std::string_view manifest,
                                  std::int64_t sequence) {
  FunctionBundle bundle{
      spec.name,
      sequence,
      sha256Hex({reinterpret_cast<const std::uint8_t*>(manifest.data()), manifest.size()}),
      {}};
  if (spec.runtime != "onnx" && spec.runtime != "process") return bundle;
  Hashed files;
  const fs::path base(spec.base_dir);
  const fs::path handler(spec.handler);
  // Lexically normal: a laid-out base sits below folders ("_") that exist in name only.
  const auto local = [&base](const fs::path& path) { return (base / path).lexically_normal(); };
  if (!handler.is_absolute()) {
    SIE_CHECK(hashFile(normal(handler), local(handler), files));
    if (spec.runtime == "process") {  // its workers read the handler's whole folder
      SIE_CHECK(hashFolder(normal(handler.parent_path()), local(handler).parent_path(), files));
    }
  }
  for (const std::string& read : spec.read_paths) {
    if (fs::path(read).is_absolute()) continue;
    std::error_code ec;
    if (fs::is_directory(local(read), ec)) {
      SIE_CHECK(hashFolder(normal(read), local(read), files));
    } else {
      SIE_CHECK(hashFile(normal(read), local(read), files));
    }
  }
  for (auto& [path, sha] : files) bundle.files.push_back({path, std::move(sha)});
  return bundle;
}

Status matchBundle(const FunctionBundle& signed_bundle, const FunctionBundle& here) {
  if (signed_bundle.name != here.name) {
    return fail(Errc::kCorrupt,
                fmt::format("the bundle was signed for function '{}', not '{}'", signed_bundle.name,
                            here.name),
                "bundle");
  }
  std::vector<std::string> differences;
  if (signed_bundle.manifest_sha256 != here.manifest_sha256) {
    differences.push_back("the manifest changed after it was signed");
  }
  const auto short_sha = [](const std::string& sha) { return sha.substr(0, 12); };
  auto a = signed_bundle.files.begin();
  auto b = here.files.begin();
  while (a != signed_bundle.files.end() || b != here.files.end()) {
    if (b == here.files.end() || (a != signed_bundle.files.end() && a->path < b->path)) {
      differences.push_back(fmt::format("{} is signed but missing", a->path));
      ++a;
    } else if (a == signed_bundle.files.end() || b->path < a->path) {
      differences.push_back(fmt::format("{} is not in the signed bundle", b->path));
      ++b;
    } else {
      if (a->sha256 != b->sha256) {
        differences.push_back(fmt::format("{} changed after it was signed (signed {}…, now {}…)",
                                          a->path, short_sha(a->sha256), short_sha(b->sha256)));
      }
      ++a;
      ++b;
    }
  }
  if (differences.empty()) return ok();
  const std::size_t more =
      differences.size() > kShownDifferences ? differences.size() - kShownDifferences : 0;
  differences.resize(std::min(differences.size(), kShownDifferences));
  return fail(Errc::kCorrupt,
              fmt::format("the function differs from its signed bundle: {}{}; sign the bundle "
                          "again (`sie sign --bundle FILE --key KEY`) after the last change",
                          fmt::join(differences, "; "),
                          more > 0 ? fmt::format(" (and {} more)", more) : ""),
              "bundle");
}

}  // namespace sie::node
