#include "security/certificate_renewal.h"

#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "security/pki.h"

namespace sie::node {

CertificateRenewal::CertificateRenewal(std::string cert_file, std::string ca_dir,
                                       std::chrono::nanoseconds interval, AuditLog& audit)
    : cert_file_(std::move(cert_file)),
      ca_dir_(std::move(ca_dir)),
      interval_(std::max<std::chrono::nanoseconds>(interval, std::chrono::milliseconds(100))),
      audit_(audit),
      thread_([this] { run(); }) {}

CertificateRenewal::~CertificateRenewal() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

CertificateRenewal::Outcome CertificateRenewal::renewIfDue() {
  const auto info = security::inspectCertificate(cert_file_);
  const std::int64_t now = std::time(nullptr);
  if (info) {
    const std::int64_t left = info->not_after_s - now;
    if (left * 3 > security::issuedLifetime(*info)) return Outcome::kNotDue;
  }
  auto renewed = info ? security::SiteCa::open(ca_dir_).and_then(
                            [this](security::SiteCa ca) { return ca.renew(cert_file_); })
                      : tl::unexpected(info.error());
  nlohmann::json record{{"event", renewed ? "certificate-renewed" : "certificate-renewal-failed"},
                        {"certificate", cert_file_}};
  if (renewed) {
    record["serial"] = renewed->serial;
    record["notAfter"] = renewed->not_after_s;
    spdlog::info("security: renewed the node's certificate {} (serial {}), valid for {} h",
                 cert_file_, renewed->serial, (renewed->not_after_s - now) / 3600);
  } else {
    record["error"] = renewed.error().str();
    spdlog::error("security: cannot renew the node's certificate {}: {}", cert_file_,
                  renewed.error().str());
  }
  if (auto appended = audit_.append("security", "node", record.dump()); !appended) {
    spdlog::error("audit: {}", appended.error().str());
  }
  return renewed ? Outcome::kRenewed : Outcome::kFailed;
}

void CertificateRenewal::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    const bool failed = renewIfDue() == Outcome::kFailed;
    lock.lock();
    // After a failure, a minute at least: a broken CA folder must not flood the log and audit.
    const auto wait =
        failed ? std::max<std::chrono::nanoseconds>(interval_, std::chrono::minutes(1)) : interval_;
    wake_.wait_for(lock, wait, [this] { return stopping_; });
  }
}

}  // namespace sie::node
