#include "control/artifact_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <system_error>

#include <fmt/format.h>

#include "control/desired_state.h"
#include "core/file_text.h"
#include "core/sha256.h"

namespace sie::node {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSigSuffix = ".sig";
constexpr fs::perms kReadOnly =
    fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read;
constexpr fs::perms kExecutable =
    kReadOnly | fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec;

Status checkDigest(std::string_view text) {
  if (isSha256Hex(text)) return ok();
  return fail(Errc::kInvalidArgument,
              fmt::format("'{}' is not a SHA-256 digest (64 lower-case hex digits)", text));
}

// The stored file in a digest's folder (the first, should it have been uploaded under several
// names).
std::optional<fs::path> storedFile(const fs::path& folder) {
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with(kSigSuffix) && entry.is_regular_file(ec)) files.push_back(entry.path());
  }
  if (files.empty()) return std::nullopt;
  std::sort(files.begin(), files.end());
  return files.front();
}

StoredArtifact describe(const std::string& sha256, const fs::path& file) {
  std::error_code ec;
  StoredArtifact a;
  a.sha256 = sha256;
  a.name = file.filename().string();
  a.path = file.string();
  a.size = fs::file_size(file, ec);
  a.executable = (fs::status(file, ec).permissions() & fs::perms::owner_exec) != fs::perms::none;
  a.has_signature = fs::exists(file.string() + std::string(kSigSuffix), ec);
  return a;
}

// `to` becomes the same file as `from`: a hard link, or a copy where links cannot go.
Status linkOrCopy(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (fs::equivalent(from, to, ec)) return ok();
  fs::remove(to, ec);
  fs::create_hard_link(from, to, ec);
  if (ec) {
    ec.clear();
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::permissions(to, fs::status(from, ec).permissions(), ec);
  }
  if (ec) {
    return fail(Errc::kIo,
                fmt::format("cannot place {} at {}: {}", from.string(), to.string(), ec.message()));
  }
  return ok();
}

}  // namespace

ArtifactStore::ArtifactStore(const std::string& data_dir, std::uint64_t quota_bytes, const Env& env)
    : dir_((fs::path(data_dir) / "artifacts").string()),
      incoming_((fs::path(dir_) / "incoming").string()),
      quota_(quota_bytes),
      env_(&env) {}

Result<std::uint64_t> ArtifactStore::usage() const {
  std::uint64_t total = 0;
  for (const auto& artifact : SIE_TRY(list())) total += artifact.size;
  return total;
}

Status ArtifactStore::checkRoom(std::uint64_t more) const {
  if (quota_ == 0) return ok();
  const std::uint64_t used = SIE_TRY(usage());
  if (used + more <= quota_) return ok();
  constexpr double kMiB = 1024.0 * 1024.0;
  return fail(Errc::kOverload,
              fmt::format("{:.1f} MiB more would not fit: the stored artifacts take {:.1f} MiB "
                          "of the node's {:.1f} MiB (spec.artifactQuotaMiB); remove unused ones "
                          "(sie artifacts rm) or raise the quota",
                          static_cast<double>(more) / kMiB, static_cast<double>(used) / kMiB,
                          static_cast<double>(quota_) / kMiB));
}

Status ArtifactStore::prepare() const {
  std::error_code ec;
  fs::remove_all(incoming_, ec);
  fs::create_directories(incoming_, ec);
  if (ec) return fail(Errc::kIo, fmt::format("cannot create {}: {}", incoming_, ec.message()));
  return ok();
}

Result<ArtifactStore::Added> ArtifactStore::add(const std::string& spooled, const std::string& name,
                                                const std::string& expect_sha256, bool executable,
                                                const std::string& signature) const {
  SIE_CHECK(checkArtifactName(name));
  if (!expect_sha256.empty()) SIE_CHECK(checkDigest(expect_sha256));
  const std::string sha256 = SIE_TRY(sha256File(spooled));
  if (!expect_sha256.empty() && sha256 != expect_sha256) {
    return fail(Errc::kCorrupt,
                fmt::format("the bytes received hash to {}, not {} as sent: the upload was "
                            "damaged or cut short; send it again",
                            sha256, expect_sha256),
                "X-Sie-Sha256");
  }
  const fs::path folder = fs::path(dir_) / sha256;
  const fs::path file = folder / name;
  std::error_code ec;
  const bool created = !fs::exists(file, ec);
  if (!storedFile(folder)) SIE_CHECK(checkRoom(fs::file_size(spooled, ec)));
  fs::create_directories(folder, ec);
  if (created) {
    fs::permissions(spooled, executable ? kExecutable : kReadOnly, ec);
    if (auto other = storedFile(folder)) {
      SIE_CHECK(linkOrCopy(*other, file));  // the same bytes under another name
      SIE_CHECK(syncDir(folder.string(), *env_));
    } else {
      // Durable before it is a stored artifact a version may name.
      SIE_CHECK(syncFile(spooled, *env_));
      fs::rename(spooled, file, ec);
      if (!ec) {
        if (auto synced = syncDir(folder.string(), *env_); !synced) {
          fs::remove(file, ec);  // not durable: not stored, so a retry stores it again
          return tl::unexpected(synced.error());
        }
      }
    }
    if (ec) return fail(Errc::kIo, fmt::format("cannot store {}: {}", file.string(), ec.message()));
  }
  if (executable) fs::permissions(file, kExecutable, ec);
  if (!signature.empty()) {
    SIE_CHECK(writeFileAtomically(file.string() + std::string(kSigSuffix), signature, 0644, *env_));
  }
  return Added{describe(sha256, file), created};
}

Result<StoredArtifact> ArtifactStore::find(const std::string& sha256) const {
  SIE_CHECK(checkDigest(sha256));
  const auto file = storedFile(fs::path(dir_) / sha256);
  if (!file) {
    return fail(Errc::kNotFound,
                fmt::format("no artifact {} on this node; upload it with PUT "
                            "/api/v1/artifacts/NAME (`sie deploy` uploads a manifest's files)",
                            sha256));
  }
  return describe(sha256, *file);
}

Result<std::vector<StoredArtifact>> ArtifactStore::list() const {
  std::vector<StoredArtifact> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string sha256 = entry.path().filename().string();
    if (!isSha256Hex(sha256)) continue;
    if (auto file = storedFile(entry.path())) out.push_back(describe(sha256, *file));
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return fail(Errc::kIo, fmt::format("cannot list {}: {}", dir_, ec.message()));
  }
  std::sort(out.begin(), out.end(),
            [](const StoredArtifact& a, const StoredArtifact& b) { return a.name < b.name; });
  return out;
}

Status ArtifactStore::remove(const std::string& sha256) const {
  SIE_TRY(find(sha256));
  std::error_code ec;
  fs::remove_all(fs::path(dir_) / sha256, ec);
  if (ec)
    return fail(Errc::kIo, fmt::format("cannot remove artifact {}: {}", sha256, ec.message()));
  return ok();
}

Result<std::string> ArtifactStore::layOut(const ArtifactRefs& refs, const std::string& root) const {
  // Paths may climb ("../../models/x.onnx"): the base sits as deep below root as the highest
  // climb, so every path lands inside root.
  std::size_t depth = 0;
  for (const auto& [path, sha256] : refs) {
    std::size_t ups = 0;
    for (const auto& part : fs::path(path)) {
      if (part != "..") break;
      ++ups;
    }
    depth = std::max(depth, ups);
  }
  fs::path base(root);
  for (std::size_t i = 0; i < depth; ++i) base /= "_";
  std::set<std::string> laid_out;
  for (const auto& [path, sha256] : refs) {
    const StoredArtifact stored = SIE_TRY(find(sha256));
    const std::string actual = SIE_TRY(sha256File(stored.path));
    if (actual != sha256) {
      return fail(Errc::kCorrupt,
                  fmt::format("artifact {} ({}) was altered on the node: its bytes hash to {}; "
                              "upload it again",
                              sha256, stored.name, actual),
                  path);
    }
    const fs::path target = (base / path).lexically_normal();
    SIE_CHECK(linkOrCopy(stored.path, target));
    laid_out.insert(target.string());
    std::error_code ec;
    const fs::path sig = target.string() + std::string(kSigSuffix);
    if (stored.has_signature) {
      SIE_CHECK(linkOrCopy(stored.path + std::string(kSigSuffix), sig));
      laid_out.insert(sig.string());
    } else {
      fs::remove(sig, ec);
    }
  }
  // A file left from an earlier, refused deploy of this version would be run and read (and
  // hashed into its bundle) as if the deploy had named it.
  std::error_code ec;
  std::vector<fs::path> stale;
  for (auto it = fs::recursive_directory_iterator(root, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_directory(ec) && !laid_out.contains(it->path().lexically_normal().string())) {
      stale.push_back(it->path());
    }
  }
  for (const fs::path& path : stale) fs::remove(path, ec);
  return base.string();
}

}  // namespace sie::node
