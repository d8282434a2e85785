// What every client subcommand shares: the --node and -o options, one call to the node's REST API,
// and the exit codes — 0 ok, 1 the node refused (4xx/5xx), 2 the node cannot be reached or the
// local input is bad. Messages go to stderr as "sie <command>: ...", answers to stdout.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <tl/expected.hpp>

#include "cli/client_output.h"
#include "http/http_client.h"

namespace sie::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitLocal = 2;

enum class OutputFormat { kTable, kJson, kYaml };

struct ClientOptions {
  // --node ($SIE_NODE), else the context's, else http://127.0.0.1:8080.
  std::string node;
  std::string output = "table";  // -o: table, json or yaml
  // The bearer token: --token ($SIE_TOKEN), else the first line of --token-file
  // ($SIE_TOKEN_FILE), else ./sie-data/security/admin.token when it is there (the admin token
  // a node started in this folder wrote).
  std::string token;
  std::string token_file;
  // For https: the CA that signs the node's certificate (--ca, $SIE_CA; else the system's), and
  // this client's certificate and key for mutual TLS (--cert/--key, $SIE_CERT/$SIE_KEY).
  std::string ca;
  std::string cert;
  std::string key;
  // A named connection in the client config (client_context.h): --context ($SIE_CONTEXT), else
  // the config's current one. Options given explicitly win over it.
  std::string context;

  [[nodiscard]] OutputFormat format() const;
};

// Adds --node, --token, --token-file, --ca, --cert, --key, --context and -o,--output to a client
// subcommand (each leaf gets its
// own, so they can follow the subcommand as users type them: `sie fn ls -o json`).
void addClientOptions(CLI::App& command, ClientOptions& options);

// The node's answer. `body` is its JSON (null when the body was empty or, for a refusal, not
// JSON); `raw` the bytes as they came.
struct Reply {
  int status = 0;
  Json body;
  std::string raw;

  [[nodiscard]] bool ok() const { return status >= 200 && status < 300; }
};

struct Call {
  std::string method = "GET";
  std::string path;  // "/api/v1/...", with the query
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  // Sends this file as the body instead (uploads), reporting (sent, total) bytes as it goes.
  std::string body_file;
  std::function<void(std::uint64_t sent, std::uint64_t total)> progress;
};

// Calls the node for the subcommand `command` ("fn ls"). On the way out, a node that cannot be
// reached (or answers with something that is not JSON) is reported and yields kExitLocal; a
// refusal is reported as "sie <command>: <message> (field: F) at WHERE" and yields kExitRefused.
class NodeClient {
 public:
  NodeClient(std::string command, const ClientOptions& options);

  // A 2xx answer, or the exit code after the problem was printed.
  [[nodiscard]] tl::expected<Reply, int> call(const Call& call) const;

  // Like call() but hands refusals back unprinted (deploy words them per file): the answer with
  // any status, or kExitLocal after printing why there is none.
  [[nodiscard]] tl::expected<Reply, int> callRaw(const Call& call) const;

  // GET of an NDJSON stream: on_line gets each line of a 2xx answer until the node ends it or
  // on_line returns false. Returns the exit code.
  [[nodiscard]] int stream(const std::string& path,
                           const std::function<bool(std::string_view line)>& on_line) const;

  // Prints "sie <command>: <text>" to stderr.
  void complain(std::string_view text) const;
  [[nodiscard]] const std::string& command() const { return command_; }
  [[nodiscard]] OutputFormat format() const { return format_; }

 private:
  [[nodiscard]] std::string url(const std::string& path) const;

  // Adds the Authorization header and the TLS settings; false (after saying why) when the
  // context, the token file or the certificates cannot be read.
  bool prepare(http::ClientRequest& request) const;

  std::string command_;
  std::string base_;  // "http://host:port[/prefix]", no trailing slash
  OutputFormat format_;
  std::string token_;
  http::ClientTls::Ptr tls_;
  std::string setup_error_;  // why the context, token file or certificates could not be read
};

// Percent-encodes everything but RFC 3986 unreserved characters, for a path segment or a query
// value ("rotating/pump1/vibration" -> "rotating%2Fpump1%2Fvibration").
std::string urlEncode(std::string_view text);

// Prints `value` to stdout as -o json (indented) or -o yaml asks; false for -o table, which each
// command renders itself.
bool printStructured(const Json& value, OutputFormat format);

}  // namespace sie::cli
