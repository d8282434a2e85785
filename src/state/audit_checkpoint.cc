#include "state/audit_checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/file_text.h"
#include "core/sha256.h"

namespace sie::state {
namespace {

// An export file grows by one short line a checkpoint; this bounds what verify reads.
constexpr std::uintmax_t kMaxExportBytes = std::uintmax_t{1} << 30;

Result<std::int64_t> intField(const nlohmann::json& doc, const char* name, bool required = true) {
  const auto it = doc.find(name);
  if (it == doc.end() && !required) return 0;
  if (it == doc.end() || !it->is_number_integer()) {
    return fail(Errc::kParse, fmt::format("checkpoint: \"{}\" is missing or not an integer", name));
  }
  return it->get<std::int64_t>();
}

Result<std::string> textField(const nlohmann::json& doc, const char* name) {
  const auto it = doc.find(name);
  if (it == doc.end() || !it->is_string()) {
    return fail(Errc::kParse, fmt::format("checkpoint: \"{}\" is missing or not a string", name));
  }
  return it->get<std::string>();
}

}  // namespace

std::string checkpointSignedText(const AuditCheckpoint& cp) {
  return fmt::format("sie-audit-checkpoint/1\nseq={}\nhead={}\ntime_ns={}\nfirst_seq={}\nfrom={}\n",
                     cp.seq, cp.head, cp.time_ns, cp.first_seq, cp.from_hash);
}

std::string checkpointJson(const AuditCheckpoint& cp, bool with_record) {
  nlohmann::ordered_json doc{{"seq", cp.seq},
                             {"head", cp.head},
                             {"time_ns", cp.time_ns},
                             {"first_seq", cp.first_seq},
                             {"from_hash", cp.from_hash},
                             {"key", cp.key},
                             {"signature", cp.signature}};
  if (with_record) doc["record"] = cp.record;
  return doc.dump();
}

Result<AuditCheckpoint> parseCheckpoint(std::string_view json) {
  const auto doc = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return fail(Errc::kParse, "checkpoint: not a JSON object");
  }
  AuditCheckpoint cp;
  cp.seq = SIE_TRY(intField(doc, "seq"));
  cp.head = SIE_TRY(textField(doc, "head"));
  cp.time_ns = SIE_TRY(intField(doc, "time_ns"));
  cp.first_seq = SIE_TRY(intField(doc, "first_seq"));
  cp.from_hash = SIE_TRY(textField(doc, "from_hash"));
  cp.key = SIE_TRY(textField(doc, "key"));
  cp.signature = SIE_TRY(textField(doc, "signature"));
  cp.record = SIE_TRY(intField(doc, "record", /*required=*/false));
  return cp;
}

Status signCheckpoint(AuditCheckpoint& cp, const std::string& key_file) {
  const std::string doc_text = SIE_TRY(signDetached(checkpointSignedText(cp), key_file));
  const auto doc = nlohmann::json::parse(doc_text, nullptr, false);
  if (doc.is_discarded()) return fail(Errc::kInternal, "checkpoint: unreadable signature");
  cp.key = doc.value("key", "");
  cp.signature = doc.value("signature", "");
  return ok();
}

Status verifyCheckpoint(const AuditCheckpoint& cp, const TrustStore& trust) {
  const std::string text = checkpointSignedText(cp);
  // TrustStore checks detached signature documents; rebuild the one signCheckpoint() unpacked.
  const nlohmann::ordered_json doc{
      {"alg", "ed25519"},
      {"key", cp.key},
      {"sha256", sha256Hex({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()})},
      {"signature", cp.signature}};
  auto verified = trust.verify(text, doc.dump());
  if (!verified) return tl::unexpected(verified.error());
  return ok();
}

Status ensureAuditKey(const std::string& key_file) {
  std::error_code ec;
  if (std::filesystem::exists(key_file, ec)) return ok();
  const std::filesystem::path parent = std::filesystem::path(key_file).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  return generateKeyPair(key_file, key_file + ".pub");
}

Status appendCheckpointExport(const std::string& path, const AuditCheckpoint& cp, const Env& env) {
  const std::string line = checkpointJson(cp, /*with_record=*/true) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Errc::kIo, fmt::format("cannot open: {}", std::strerror(errno)), path);
  // One write() of a short line to an O_APPEND file lands whole, after every earlier line.
  const ssize_t written = env.write(fd, line.data(), line.size());
  const int write_errno = errno;
  const bool synced = written == static_cast<ssize_t>(line.size()) && env.fsync(fd) == 0;
  const int sync_errno = errno;
  ::close(fd);
  if (written != static_cast<ssize_t>(line.size())) {
    return fail(Errc::kIo, fmt::format("cannot append: {}", std::strerror(write_errno)), path);
  }
  if (!synced)
    return fail(Errc::kIo, fmt::format("cannot sync: {}", std::strerror(sync_errno)), path);
  return ok();
}

Result<std::vector<AuditCheckpoint>> readCheckpointExport(const std::string& path) {
  const std::string text = SIE_TRY(readFileText(path, kMaxExportBytes));
  std::vector<AuditCheckpoint> out;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (line.empty()) continue;
    auto cp = parseCheckpoint(line);
    // A crash during the append may leave a torn last line; it sealed nothing yet.
    if (!cp && lines.eof() && !text.ends_with('\n')) break;
    if (!cp) {
      return fail(Errc::kCorrupt, fmt::format("line {}: {}", number, cp.error().message), path);
    }
    out.push_back(std::move(*cp));
  }
  return out;
}

}  // namespace sie::state
