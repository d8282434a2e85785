// The site's policy file in force: read at start (an error then stops the node), read again when
// its modification time, size or inode (a file renamed over it) changes, looked at most once per
// `check_interval`. Loads and
// reloads are audited with the file's SHA-256; a changed file that does not load leaves the last
// good policy in force, and is logged, counted and audited once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "security/policy.h"
#include "sie/clock.h"
#include "sie/result.h"
#include "sie/state.h"

namespace sie::security {

class PolicyStore {
 public:
  // `audit` and `clock` must outlive the store.
  static Result<std::unique_ptr<PolicyStore>> open(std::string path, AuditLog& audit,
                                                   const Clock& clock,
                                                   std::chrono::nanoseconds check_interval);

  // The policy in force; reloads it first when the file changed.
  std::shared_ptr<const Policy> current();

 private:
  PolicyStore(std::string path, AuditLog& audit, const Clock& clock,
              std::chrono::nanoseconds check_interval);
  // Loads the file when it changed; `first`: at open, where an error is returned. Requires mu_.
  Status refresh(bool first);
  // A changed file that did not load: logged, counted, audited.
  void refused(const std::string& reason);
  void audit(const nlohmann::json& body);

  std::string path_;
  AuditLog& audit_;
  const Clock& clock_;
  std::int64_t check_interval_ns_;
  std::mutex mu_;
  std::shared_ptr<const Policy> policy_;
  std::int64_t next_check_ns_ = 0;
  // The file as last seen (loaded or refused): a refused file is reported once.
  std::int64_t seen_mtime_ns_ = -1;
  std::int64_t seen_size_ = -1;
  std::uint64_t seen_inode_ = 0;
  bool gone_ = false;  // the file was missing at the last look (reported once)
};

}  // namespace sie::security
