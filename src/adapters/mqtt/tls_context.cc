#include "adapters/mqtt/tls_context.h"

#include <arpa/inet.h>

#include <array>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/openssl_support.h"

namespace sie::mqtt {
namespace {

bool isIpAddress(const std::string& host) {
  std::array<unsigned char, sizeof(in6_addr)> addr{};
  return ::inet_pton(AF_INET, host.c_str(), addr.data()) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), addr.data()) == 1;
}

tl::unexpected<Error> fileError(std::string_view key, const std::string& path,
                                std::string_view what) {
  return fail(Errc::kInvalidArgument,
              fmt::format("{} '{}': {} ({})", key, path, what, opensslReason()));
}

}  // namespace

void TlsContextFree::operator()(ssl_ctx_st* ctx) const { SSL_CTX_free(ctx); }

Result<TlsContext> makeTlsContext(const Connection& c) {
  TlsContext ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return fail(Errc::kInternal, "cannot create a TLS context: " + opensslReason());
  SSL_CTX* raw = ctx.get();
  SSL_CTX_set_min_proto_version(raw, TLS1_3_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_default_passwd_cb(raw, &noPassphrase);
  if (SSL_CTX_load_verify_file(raw, c.ca_file.c_str()) != 1) {
    return fileError("caFile", c.ca_file, "cannot load the CA certificates");
  }
  SSL_CTX_set_verify(raw, SSL_VERIFY_PEER, nullptr);
  if (!c.tls_insecure) {
    X509_VERIFY_PARAM* param = SSL_CTX_get0_param(raw);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int set = isIpAddress(c.host) ? X509_VERIFY_PARAM_set1_ip_asc(param, c.host.c_str())
                                        : X509_VERIFY_PARAM_set1_host(param, c.host.c_str(), 0);
    if (set != 1) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("host '{}' cannot be checked against a certificate ({})", c.host,
                              opensslReason()));
    }
  }
  if (!c.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(raw, c.cert_file.c_str()) != 1) {
      return fileError("certFile", c.cert_file, "cannot load the client certificate (PEM)");
    }
    // OpenSSL also checks here that the key belongs to the certificate.
    if (SSL_CTX_use_PrivateKey_file(raw, c.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return fileError("keyFile", c.key_file, "is not the unencrypted PEM private key of certFile");
    }
  }
  return ctx;
}

}  // namespace sie::mqtt
