// The node renews its own TLS certificate with the site CA (spec.security.tls.renewWith) when a
// third of its lifetime is left, in place; the listener then loads it without a restart
// (ServerOptions::tls_reload). Each renewal, and each failed attempt, is logged and audited.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "sie/state.h"

namespace sie::node {

class CertificateRenewal {
 public:
  // Checks `cert_file` every `interval` until destroyed; `audit` must outlive it.
  CertificateRenewal(std::string cert_file, std::string ca_dir, std::chrono::nanoseconds interval,
                     AuditLog& audit);
  ~CertificateRenewal();
  CertificateRenewal(const CertificateRenewal&) = delete;
  CertificateRenewal& operator=(const CertificateRenewal&) = delete;

  enum class Outcome : std::uint8_t { kNotDue, kRenewed, kFailed };
  // Renews now when due.
  Outcome renewIfDue();

 private:
  void run();

  const std::string cert_file_;
  const std::string ca_dir_;
  const std::chrono::nanoseconds interval_;
  AuditLog& audit_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sie::node
