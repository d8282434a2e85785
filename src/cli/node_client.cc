#include "cli/node_client.h"

#include <unistd.h>

#include <cctype>
#include <iostream>
#include <utility>

#include <fmt/format.h>

#include "cli/client_context.h"
#include "core/file_text.h"
#include "http/http_client.h"

namespace sie::cli {
namespace {

// A connection the node refused most often means no node listens there.
std::string withHint(const Error& error) {
  std::string text = error.str();
  if (error.message.starts_with("cannot connect to ")) {
    text += " (is the node running? set --node or SIE_NODE)";
  }
  return text;
}

}  // namespace

OutputFormat ClientOptions::format() const {
  if (output == "json") return OutputFormat::kJson;
  if (output == "yaml") return OutputFormat::kYaml;
  return OutputFormat::kTable;
}

void addClientOptions(CLI::App& command, ClientOptions& options) {
  command
      .add_option("--node", options.node,
                  "The node's API URL (default: the context's, else http://127.0.0.1:8080)")
      ->type_name("URL")
      ->envname("SIE_NODE");
  command.add_option("--token", options.token, "Bearer token for the node (sie token create)")
      ->envname("SIE_TOKEN");
  command
      .add_option("--token-file", options.token_file,
                  "File whose first line is the bearer token (default: "
                  "./sie-data/security/admin.token when present)")
      ->envname("SIE_TOKEN_FILE");
  command.add_option("--ca", options.ca, "https: the CA file the node's certificate chains to")
      ->envname("SIE_CA");
  command.add_option("--cert", options.cert, "https: this client's certificate (sie pki issue)")
      ->envname("SIE_CERT");
  command.add_option("--key", options.key, "https: the key of --cert")->envname("SIE_KEY");
  command
      .add_option("--context", options.context,
                  "A named connection from " + clientConfigPath() + " (sie context)")
      ->envname("SIE_CONTEXT");
  command.add_option("-o,--output", options.output, "Output format: table, json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
}

NodeClient::NodeClient(std::string command, const ClientOptions& options)
    : command_(std::move(command)), format_(options.format()), token_(options.token) {
  ClientOptions o = options;
  const std::string config_path = clientConfigPath();
  auto config = loadClientConfig(config_path);
  if (!config) {
    setup_error_ = config.error().str();
    return;
  }
  if (const ClientContext* context = config->find(o.context)) {
    // What was given explicitly wins over the context, item by item.
    const auto fill = [](std::string& value, const std::string& from) {
      if (value.empty()) value = from;
    };
    fill(o.node, context->node);
    fill(o.ca, context->ca);
    fill(o.cert, context->cert);
    fill(o.key, context->key);
    if (o.token.empty()) fill(o.token_file, context->token_file);
  } else if (!o.context.empty()) {
    setup_error_ = fmt::format("no context '{}' in {} (sie context ls)", o.context, config_path);
    return;
  }
  base_ = o.node.empty() ? "http://127.0.0.1:8080" : o.node;
  // "127.0.0.1:8080" is what `sie run --http` takes, so it is accepted here too.
  if (base_.find("://") == std::string::npos) base_ = "http://" + base_;
  while (base_.ends_with('/')) base_.pop_back();
  if (o.cert.empty() != o.key.empty()) {
    setup_error_ = "--cert and --key go together: a certificate and its key";
    return;
  }
  if (base_.starts_with("https://")) {
    auto tls = http::ClientTls::load({.ca_file = o.ca, .cert_file = o.cert, .key_file = o.key});
    if (!tls) {
      setup_error_ = tls.error().str();
      return;
    }
    tls_ = std::move(*tls);
  } else if (!o.cert.empty()) {
    setup_error_ = fmt::format("--cert is for https, but the node is {}", base_);
    return;
  }
  constexpr const char* kLocalAdminToken = "sie-data/security/admin.token";
  std::string file = o.token_file;
  if (token_.empty() && file.empty() && o.cert.empty() && ::access(kLocalAdminToken, R_OK) == 0) {
    file = kLocalAdminToken;
  }
  if (token_.empty() && !file.empty()) {
    auto text = readFileText(file, 4096);
    if (!text) {
      setup_error_ = fmt::format("cannot read the token file: {}", text.error().str());
    } else {
      token_ = text->substr(0, text->find_first_of("\r\n"));
    }
  }
}

bool NodeClient::prepare(http::ClientRequest& request) const {
  if (!setup_error_.empty()) {
    complain(setup_error_);
    return false;
  }
  if (!token_.empty()) request.headers["authorization"] = "Bearer " + token_;
  request.tls = tls_;
  return true;
}

std::string NodeClient::url(const std::string& path) const { return base_ + path; }

void NodeClient::complain(std::string_view text) const {
  std::cerr << "sie " << command_ << ": " << text << "\n";
}

tl::expected<Reply, int> NodeClient::callRaw(const Call& call) const {
  http::ClientRequest request;
  request.method = call.method;
  request.url = url(call.path);
  request.body = call.body;
  request.content_type = call.content_type;
  request.headers = call.headers;
  request.headers["accept"] = "application/json";
  if (!prepare(request)) return tl::unexpected(kExitLocal);
  auto response = call.body_file.empty() ? http::send(request)
                                         : http::sendFile(request, call.body_file, call.progress);
  if (!response) {
    complain(withHint(response.error()));
    return tl::unexpected(kExitLocal);
  }
  Reply reply{response->status, Json(), std::move(response->body)};
  if (!reply.raw.empty()) {
    reply.body = Json::parse(reply.raw, nullptr, /*allow_exceptions=*/false);
    if (reply.body.is_discarded()) {
      reply.body = Json();
      if (reply.ok()) {
        // A 2xx that is not JSON: something else listens there.
        complain(fmt::format("the answer from {} is not JSON; is --node a sie node?", base_));
        return tl::unexpected(kExitLocal);
      }
    }
  }
  return reply;
}

tl::expected<Reply, int> NodeClient::call(const Call& call) const {
  auto reply = callRaw(call);
  if (!reply) return reply;
  if (!reply->ok()) {
    complain(refusalText(parseRefusal(reply->status, reply->raw)));
    return tl::unexpected(kExitRefused);
  }
  return reply;
}

int NodeClient::stream(const std::string& path,
                       const std::function<bool(std::string_view line)>& on_line) const {
  http::ClientRequest request;
  request.url = url(path);
  request.headers["accept"] = "application/x-ndjson";
  if (!prepare(request)) return kExitLocal;
  auto response = http::sendStreaming(request, on_line);
  if (!response) {
    complain(withHint(response.error()));
    return kExitLocal;
  }
  if (response->status < 200 || response->status >= 300) {
    complain(refusalText(parseRefusal(response->status, response->body)));
    return kExitRefused;
  }
  return kExitOk;
}

std::string urlEncode(std::string_view text) {
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

bool printStructured(const Json& value, OutputFormat format) {
  switch (format) {
    case OutputFormat::kJson:
      std::cout << value.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
      return true;
    case OutputFormat::kYaml:
      std::cout << jsonToYaml(value) << "\n";
      return true;
    case OutputFormat::kTable:
      break;
  }
  return false;
}

}  // namespace sie::cli
