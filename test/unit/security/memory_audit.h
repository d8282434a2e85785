// An audit log in memory, for the guard's and the policy store's tests.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sie/state.h"

namespace sie::security {

class MemoryAudit final : public AuditLog {
 public:
  Result<std::int64_t> append(std::string_view kind, std::string_view subject,
                              std::string_view body) override {
    std::lock_guard lock(mu);
    records.push_back({static_cast<std::int64_t>(records.size() + 1), 0, std::string(kind),
                       std::string(subject), std::string(body)});
    return records.back().seq;
  }
  Result<std::vector<AuditRecord>> tail(std::size_t) override {
    std::lock_guard lock(mu);
    return records;
  }
  Result<AuditVerifyReport> verify() override { return AuditVerifyReport{}; }

  // The bodies of the records of `kind` and `subject` ("" for any subject), oldest first.
  std::vector<nlohmann::json> bodies(std::string_view kind, std::string_view subject = {}) {
    std::lock_guard lock(mu);
    std::vector<nlohmann::json> out;
    for (const AuditRecord& r : records) {
      if (r.kind == kind && (subject.empty() || r.subject == subject)) {
        out.push_back(nlohmann::json::parse(r.body));
      }
    }
    return out;
  }

  std::mutex mu;
  std::vector<AuditRecord> records;
};

}  // namespace sie::security
