// How a node seals its audit chain (see docs/SECURITY.md, "Audit chain"). Without sealing the
// chain is only hash-linked: whoever can write the database can rewrite it undetected.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace sie {

struct AuditSealOptions {
  std::string key_file;  // the node's Ed25519 key (PEM); created 0600 with a .pub beside it
  // A signed checkpoint record after this many records (0: not by count) ...
  std::size_t checkpoint_records = 1000;
  // ... or when the oldest record not yet covered is this old (0: not by time).
  std::chrono::nanoseconds checkpoint_interval{std::chrono::seconds(60)};
  // Every checkpoint is also appended here (JSON lines, fsynced); "": no export. Put it on another
  // volume, so deleting or replacing the database is detected.
  std::string export_file;
  // Retention: records beyond this count or older than this age are pruned once a signed
  // checkpoint covers them (0: keep).
  std::size_t max_records = 0;
  std::chrono::nanoseconds max_age{0};
};

}  // namespace sie
