// `sie audit verify` and `sie audit tail`: read a node's audit chain from its data directory,
// read-only, so they also work while the node runs.
#include <cstddef>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "state/embedded_store.h"

namespace sie::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitBroken = 1;
constexpr int kExitUnreadable = 2;

struct AuditOptions {
  std::string data_dir;
  std::size_t lines = 20;
};

void addDataDirOption(CLI::App& command, AuditOptions& options) {
  command.add_option("--data-dir", options.data_dir, "The node's data directory (holds sie.db)")
      ->required();
}

int runVerify(const AuditOptions& options) {
  auto report = state::verifyAuditChain(options.data_dir);
  if (!report) {
    std::cerr << "sie audit verify: " << report.error().str() << "\n";
    return kExitUnreadable;
  }
  if (!report->ok) {
    // The problem names the record: "record 17: hash does not match its contents (altered?)".
    std::cerr << "audit chain BROKEN at " << report->problem;
    if (report->records > 0) std::cerr << "; records 1.." << report->records << " verify";
    std::cerr << "\n";
    return kExitBroken;
  }
  std::cout << "audit chain intact: " << report->records << " records\n";
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
  verify->callback([&exit_code, verify_options] { exit_code = runVerify(*verify_options); });

  auto tail_options = std::make_shared<AuditOptions>();
  CLI::App* tail = audit->add_subcommand("tail", "Print the newest records as JSON lines");
  addDataDirOption(*tail, *tail_options);
  tail->add_option("-n,--lines", tail_options->lines, "How many records to print")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  tail->callback([&exit_code, tail_options] { exit_code = runTail(*tail_options); });
}

}  // namespace sie::cli
