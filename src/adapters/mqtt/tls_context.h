// The TLS client context of one MQTT connection: TLS 1.3 only, the broker's chain checked against
// caFile and its name against the host (unless tlsInsecure), the client certificate when set.
//
// Built here and handed to libmosquitto (MOSQ_OPT_SSL_CTX) rather than left to it: libmosquitto
// 2.0's lazy TLS set-up is not thread-safe, and clients connecting at once on their own threads
// leak its UI method and can race its SSL ex-data index (a handshake that fails its own check).
// Here the errors also name the file and OpenSSL's reason.
#pragma once

#include <memory>

#include "adapters/mqtt/mqtt_connection.h"
#include "sie/result.h"

struct ssl_ctx_st;

namespace sie::mqtt {

struct TlsContextFree {
  void operator()(ssl_ctx_st* ctx) const;
};
using TlsContext = std::unique_ptr<ssl_ctx_st, TlsContextFree>;

// Fails with kInvalidArgument naming the key (caFile, certFile, keyFile) and the reason.
Result<TlsContext> makeTlsContext(const Connection& connection);

}  // namespace sie::mqtt
