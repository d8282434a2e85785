#include "http/tls.h"

#include <arpa/inet.h>

#include <array>

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/openssl_support.h"

namespace sie::http {
namespace {

tl::unexpected<Error> fileError(std::string_view what, const std::string& path) {
  return fail(Errc::kInvalidArgument, fmt::format("{} ({})", what, opensslReason()), path);
}

void freePrefix(void* /*parent*/, void* ptr, CRYPTO_EX_DATA* /*ad*/, int /*idx*/, long /*argl*/,
                void* /*argp*/) {
  delete static_cast<std::string*>(ptr);
}

// Where a context keeps its client URI prefix (freed with the context).
int prefixIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, &freePrefix);
  return index;
}

// The chain (CA, CRL, dates, purpose) as OpenSSL checks it, then the leaf's identity.
int verifyClient(X509_STORE_CTX* store, void* /*arg*/) {
  if (X509_verify_cert(store) != 1) return 0;
  SSL* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  const auto* prefix =
      static_cast<const std::string*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), prefixIndex()));
  if (prefix == nullptr || prefix->empty()) return 1;
  if (uriSanOf(X509_STORE_CTX_get0_cert(store)).starts_with(*prefix)) return 1;
  X509_STORE_CTX_set_error(store, X509_V_ERR_PERMITTED_VIOLATION);
  return 0;
}

SslCtx newContext(const SSL_METHOD* method) {
  SslCtx ctx(SSL_CTX_new(method));
  if (!ctx) return ctx;
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_default_passwd_cb(ctx.get(), &noPassphrase);
  return ctx;
}

Status useIdentity(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    return fileError("cannot load the certificate (PEM)", cert_file);
  }
  // OpenSSL also checks here that the key belongs to the certificate.
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return fileError(fmt::format("is not the unencrypted PEM private key of {}", cert_file),
                     key_file);
  }
  return ok();
}

}  // namespace

void SslCtxFree::operator()(ssl_ctx_st* ctx) const { SSL_CTX_free(ctx); }

Result<SslCtx> makeServerTls(const TlsServerOptions& options) {
  SslCtx ctx = newContext(TLS_server_method());
  if (!ctx) return fail(Errc::kInternal, "cannot create a TLS context: " + opensslReason());
  SIE_CHECK(useIdentity(ctx.get(), options.cert_file, options.key_file));
  if (SSL_CTX_load_verify_file(ctx.get(), options.ca_file.c_str()) != 1) {
    return fileError("cannot load the CA certificates (PEM)", options.ca_file);
  }
  // Clients see which CA to pick a certificate for (a browser offers matching ones only).
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(options.ca_file.c_str());
  if (names != nullptr) SSL_CTX_set_client_CA_list(ctx.get(), names);
  if (!options.crl_file.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    if (X509_STORE_load_file(store, options.crl_file.c_str()) != 1) {
      return fileError("cannot load the CRL (PEM)", options.crl_file);
    }
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  }
  X509_VERIFY_PARAM_set_purpose(SSL_CTX_get0_param(ctx.get()), X509_PURPOSE_SSL_CLIENT);
  SSL_CTX_set_verify(
      ctx.get(),
      SSL_VERIFY_PEER | (options.require_client_certificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
      nullptr);
  SSL_CTX_set_ex_data(ctx.get(), prefixIndex(), new std::string(options.client_uri_prefix));
  SSL_CTX_set_cert_verify_callback(ctx.get(), &verifyClient, nullptr);
  SSL_CTX_set_session_id_context(ctx.get(), reinterpret_cast<const unsigned char*>("sie"), 3);
  return ctx;
}

Result<SslCtx> makeClientTls(const TlsClientOptions& options) {
  SslCtx ctx = newContext(TLS_client_method());
  if (!ctx) return fail(Errc::kInternal, "cannot create a TLS context: " + opensslReason());
  if (options.ca_file.empty() || options.system_cas_too) {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      return fail(Errc::kInternal, "cannot load the system's CA certificates: " + opensslReason());
    }
  }
  if (!options.ca_file.empty() &&
      SSL_CTX_load_verify_file(ctx.get(), options.ca_file.c_str()) != 1) {
    return fileError("cannot load the CA certificates (PEM)", options.ca_file);
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (!options.cert_file.empty()) {
    SIE_CHECK(useIdentity(ctx.get(), options.cert_file, options.key_file));
  }
  return ctx;
}

Status expectServerName(ssl_st* ssl, const std::string& host) {
  std::array<unsigned char, sizeof(in6_addr)> address{};
  const bool ip = ::inet_pton(AF_INET, host.c_str(), address.data()) == 1 ||
                  ::inet_pton(AF_INET6, host.c_str(), address.data()) == 1;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if ((ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
          : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0)) != 1 ||
      (!ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)) {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("'{}' cannot be checked against a certificate ({})", host, opensslReason()));
  }
  return ok();
}

std::string handshakeFailure(ssl_st* ssl, const std::string& fallback) {
  const long verify = SSL_get_verify_result(ssl);
  if (verify == X509_V_OK) return fallback;
  return fmt::format("its certificate: {} (is the CA file the one that signed it?)",
                     X509_verify_cert_error_string(verify));
}

std::string uriSanOf(x509_st* cert) {
  std::string out;
  if (cert == nullptr) return out;
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && out.empty(); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
    out.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
               static_cast<std::size_t>(ASN1_STRING_length(uri)));
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string organizationOf(x509_st* cert) {
  if (cert == nullptr) return "";
  X509_NAME* name = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(name, NID_organizationName, -1);
  if (at < 0) return "";
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                     static_cast<std::size_t>(ASN1_STRING_length(value)));
}

}  // namespace sie::http
