// TLS contexts for the node's listener and for its HTTP clients: TLS 1.3 only, no compression,
// no renegotiation, no encrypted keys (OpenSSL would prompt on the terminal).
#pragma once

#include <memory>
#include <string>

#include "sie/result.h"

struct ssl_ctx_st;
struct ssl_st;
struct x509_st;

namespace sie::http {

struct SslCtxFree {
  void operator()(ssl_ctx_st* ctx) const;
};
using SslCtx = std::unique_ptr<ssl_ctx_st, SslCtxFree>;

// The listener's side: its certificate, and who may connect.
struct TlsServerOptions {
  std::string cert_file;  // PEM: the node's certificate, then any intermediates
  std::string key_file;   // PEM, unencrypted
  std::string ca_file;    // PEM: the CAs client certificates must chain to
  std::string crl_file;   // PEM CRL of ca_file ("" for none): revoked certificates are refused
  // Only a client certificate whose first URI SAN starts with this ("spiffe://plant-a/") is
  // accepted; "" accepts any the CA issued.
  std::string client_uri_prefix;
  // false: a client may connect without a certificate (it must then show a bearer token).
  bool require_client_certificate = true;
};

// Errors name the file and OpenSSL's reason. The context refers to `options` (the URI prefix)
// for as long as it lives.
Result<SslCtx> makeServerTls(const TlsServerOptions& options);

// The calling side: the CAs that sign the servers it trusts ("" for the system's), and its own
// certificate for mutual TLS ("" for none).
struct TlsClientOptions {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool system_cas_too = false;  // trust the system's CAs besides ca_file
};

Result<SslCtx> makeClientTls(const TlsClientOptions& options);

// Before a client handshake: the server's certificate must name `host` (a DNS name, or an IP
// address in an IP SAN); a DNS name is also sent as SNI.
Status expectServerName(ssl_st* ssl, const std::string& host);

// Why a client handshake failed: the server certificate's verification error when there is
// one, else `fallback` (the transport's message).
std::string handshakeFailure(ssl_st* ssl, const std::string& fallback);

// A verified peer certificate's first URI SAN ("spiffe://plant-a/client/alice") and its O=
// ("" for either when absent).
std::string uriSanOf(x509_st* cert);
std::string organizationOf(x509_st* cert);

}  // namespace sie::http
