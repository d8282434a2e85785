#include "security/policy_store.h"

#include <sys/stat.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "core/file_text.h"
#include "core/sha256.h"
#include "security/policy_file.h"
#include "sie/metrics.h"

namespace sie::security {
namespace {

void countReload(std::string_view outcome) {
  metrics()
      .counter("sie_policy_reloads_total",
               "Loads of the policy file by outcome (loaded, failed: the last good one stays).",
               {{"outcome", std::string(outcome)}})
      .inc();
}

}  // namespace

PolicyStore::PolicyStore(std::string path, AuditLog& audit, const Clock& clock,
                         std::chrono::nanoseconds check_interval)
    : path_(std::move(path)),
      audit_(audit),
      clock_(clock),
      check_interval_ns_(check_interval.count()) {}

Result<std::unique_ptr<PolicyStore>> PolicyStore::open(std::string path, AuditLog& audit,
                                                       const Clock& clock,
                                                       std::chrono::nanoseconds check_interval) {
  std::unique_ptr<PolicyStore> store(
      new PolicyStore(std::move(path), audit, clock, check_interval));
  std::lock_guard lock(store->mu_);
  SIE_CHECK(store->refresh(true));
  return store;
}

std::shared_ptr<const Policy> PolicyStore::current() {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_.monotonicNs();
  if (now >= next_check_ns_) {
    next_check_ns_ = now + check_interval_ns_;
    (void)refresh(false);  // never fails after open: a refused file is reported inside
  }
  return policy_;
}

Status PolicyStore::refresh(bool first) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    if (first) return fail(Errc::kNotFound, "no such file (spec.security.policy)", path_);
    if (!gone_) {
      gone_ = true;
      refused("the file is gone");
    }
    return ok();
  }
  gone_ = false;
  const std::int64_t mtime = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
  if (mtime == seen_mtime_ns_ && st.st_size == seen_size_ && st.st_ino == seen_inode_) {
    return ok();
  }
  seen_mtime_ns_ = mtime;
  seen_size_ = st.st_size;
  seen_inode_ = st.st_ino;
  auto text = readFileText(path_, kMaxPolicyBytes);
  auto loaded = text ? parsePolicy(*text, path_) : Result<Policy>(tl::unexpected(text.error()));
  if (!loaded) {
    if (first) return tl::unexpected(loaded.error());
    refused(loaded.error().str());
    return ok();
  }
  policy_ = std::make_shared<const Policy>(std::move(*loaded));
  const std::string sha =
      sha256Hex({reinterpret_cast<const std::uint8_t*>(text->data()), text->size()});  // NOLINT
  countReload("loaded");
  spdlog::info("security: policy {} {}: {} rules, sha256 {}", path_, first ? "loaded" : "reloaded",
               policy_->size(), sha);
  audit({{"event", first ? "loaded" : "reloaded"},
         {"file", path_},
         {"rules", policy_->size()},
         {"sha256", sha}});
  return ok();
}

void PolicyStore::refused(const std::string& reason) {
  countReload("failed");
  spdlog::error("security: policy {} not reloaded, the last good one stays in force: {}", path_,
                reason);
  audit({{"event", "reload_failed"}, {"file", path_}, {"reason", reason}});
}

void PolicyStore::audit(const nlohmann::json& body) {
  const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (auto appended = audit_.append("security", "policy", text); !appended) {
    spdlog::error("audit: {}", appended.error().str());
  }
}

}  // namespace sie::security
