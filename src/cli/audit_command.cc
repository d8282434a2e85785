// `sie audit verify`, `sie audit tail` and `sie audit key`: read a node's audit chain (and its
// audit key) from its data directory, read-only, so they also work while the node runs.
#include <cstddef>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/file_text.h"
#include "core/signing.h"
#include "state/audit_checkpoint.h"
#include "state/embedded_store.h"

namespace sie::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitBroken = 1;
constexpr int kExitUnreadable = 2;

struct AuditOptions {
  std::string data_dir;
  std::size_t lines = 20;
  std::vector<std::string> trust;  // public key files whose checkpoints verify accepts
  std::string checkpoints;         // the node's checkpoint export file
  std::string key_file;            // "" = <data_dir>/audit.key
};

// Public keys are taken from .pub files (PEM); an unreadable one fails the command.
Result<TrustStore> loadTrust(const std::vector<std::string>& files) {
  std::vector<PublicKey> keys;
  for (const std::string& file : files) {
    const std::string pem = SIE_TRY(readFileText(file, 64 * 1024));
    keys.push_back(SIE_TRY(readPublicKey(pem, file)));
  }
  return TrustStore(std::move(keys));
}

std::string intactLine(const state::AuditChainReport& report, bool trusted) {
  std::string line = fmt::format("audit chain intact: {} records", report.records);
  if (report.first_seq > 1) {
    line += fmt::format(" ({}..{}; older ones pruned after a checkpoint)", report.first_seq,
                        report.first_seq + report.records - 1);
  }
  if (report.checkpoints > 0 || trusted) {
    line += fmt::format(
        ", {} checkpoints{}", report.checkpoints,
        trusted ? " signed by a trusted key" : " (signatures not checked; pass --trust)");
    const std::int64_t last = report.first_seq + report.records - 1;
    if (report.sealed_seq < last) {
      line += fmt::format("; records {}..{} not sealed yet", report.sealed_seq + 1, last);
    }
  }
  return line;
}

void addDataDirOption(CLI::App& command, AuditOptions& options) {
  command.add_option("--data-dir", options.data_dir, "The node's data directory (holds sie.db)")
      ->required();
}

int runVerify(const AuditOptions& options) {
  auto trust = loadTrust(options.trust);
  if (!trust) {
    std::cerr << "sie audit verify: " << trust.error().str() << "\n";
    return kExitUnreadable;
  }
  std::vector<state::AuditCheckpoint> exported;
  if (!options.checkpoints.empty()) {
    auto read = state::readCheckpointExport(options.checkpoints);
    if (!read) {
      std::cerr << "sie audit verify: " << read.error().str() << "\n";
      return kExitUnreadable;
    }
    exported = std::move(*read);
  }
  const state::AuditVerifyOptions verify_options{
      .trust = &*trust, .exported = options.checkpoints.empty() ? nullptr : &exported};
  auto report = state::verifyAuditChain(options.data_dir, verify_options);
  if (!report && report.error().code == Errc::kNotFound && !exported.empty()) {
    // The export outlives the database: a missing database is then a finding, not a usage error.
    report = state::verifyMissingChain(exported);
  }
  if (!report) {
    std::cerr << "sie audit verify: " << report.error().str() << "\n";
    return kExitUnreadable;
  }
  if (!report->ok) {
    // The problem names the record: "record 17: hash does not match its contents (altered?)".
    std::cerr << "audit chain BROKEN" << (report->problem.starts_with("record ") ? " at " : ": ")
              << report->problem;
    if (report->records > 0) {
      std::cerr << "; records " << report->first_seq << ".."
                << report->first_seq + report->records - 1 << " verify";
    }
    std::cerr << "\n";
    return kExitBroken;
  }
  std::cout << intactLine(*report, !trust->keys().empty()) << "\n";
  return kExitOk;
}

int runKey(const AuditOptions& options) {
  const std::string key_file =
      options.key_file.empty() ? state::defaultAuditKeyPath(options.data_dir) : options.key_file;
  auto pem = readFileText(key_file + ".pub", 64 * 1024);
  auto key =
      pem ? readPublicKey(*pem, key_file + ".pub") : Result<PublicKey>(tl::unexpected(pem.error()));
  if (!key) {
    std::cerr << "sie audit key: " << key.error().str()
              << " (the node creates its audit key on first start)\n";
    return kExitUnreadable;
  }
  // The PEM alone on stdout, so `sie audit key ... > node-audit.pub` makes a --trust file.
  std::cout << key->pem;
  std::cerr << "audit key " << key->id << " (" << key_file << ")\n";
  return kExitOk;
}

// Bodies are JSON documents and are shown as such; anything else as a string.
// Keys keep the record's field order.
nlohmann::ordered_json recordJson(const AuditRecord& r) {
  nlohmann::ordered_json body =
      nlohmann::ordered_json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) body = r.body;
  return nlohmann::ordered_json{
      {"seq", r.seq}, {"ts_ns", r.ts_ns},         {"kind", r.kind}, {"subject", r.subject},
      {"body", body}, {"prev_hash", r.prev_hash}, {"hash", r.hash}};
}

int runTail(const AuditOptions& options) {
  auto records = state::readAuditTail(options.data_dir, options.lines);
  if (!records) {
    std::cerr << "sie audit tail: " << records.error().str() << "\n";
    return kExitUnreadable;
  }
  for (const AuditRecord& r : *records) {
    // Invalid UTF-8 in a stored field is replaced rather than aborting the listing.
    std::cout << recordJson(r).dump(-1, ' ', false,
                                    nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
  }
  return kExitOk;
}

}  // namespace

void addAuditCommand(CLI::App& app, int& exit_code) {
  CLI::App* audit = app.add_subcommand("audit", "Inspect the tamper-evident audit chain");
  audit->require_subcommand(1);

  auto verify_options = std::make_shared<AuditOptions>();
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "Check every record's hash and link; exit 0 if intact, 1 if broken, 2 if unreadable");
  addDataDirOption(*verify, *verify_options);
  verify
      ->add_option("--trust", verify_options->trust,
                   "Public key file(s) (PEM, e.g. from `sie audit key`) whose signed checkpoints "
                   "are accepted; every checkpoint must verify and the chain must hold one")
      ->check(CLI::ExistingFile);
  verify
      ->add_option("--checkpoints", verify_options->checkpoints,
                   "The node's checkpoint export (JSON lines): detects a truncated, replaced or "
                   "deleted database")
      ->check(CLI::ExistingFile);
  verify->callback([&exit_code, verify_options] { exit_code = runVerify(*verify_options); });

  auto tail_options = std::make_shared<AuditOptions>();
  CLI::App* tail = audit->add_subcommand("tail", "Print the newest records as JSON lines");
  addDataDirOption(*tail, *tail_options);
  tail->add_option("-n,--lines", tail_options->lines, "How many records to print")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  tail->callback([&exit_code, tail_options] { exit_code = runTail(*tail_options); });

  auto key_options = std::make_shared<AuditOptions>();
  CLI::App* key = audit->add_subcommand(
      "key", "Print the node's audit public key (PEM), to pass to `sie audit verify --trust`");
  addDataDirOption(*key, *key_options);
  key->add_option("--key-file", key_options->key_file,
                  "The audit key when spec.audit.keyFile names one (default DATA_DIR/audit.key)");
  key->callback([&exit_code, key_options] { exit_code = runKey(*key_options); });
}

}  // namespace sie::cli
