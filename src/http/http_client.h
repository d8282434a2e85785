// A blocking HTTP/1.1 client (Boost.Beast) for the CLI and the node's callbacks: one request per
// call on a fresh connection, or a streamed body read line by line (log follow).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "sie/result.h"

namespace sie::http {

struct Url {
  std::string host;
  std::string port = "80";
  std::string target = "/";  // path and query
};

// "http://host[:port][/path]"; https is refused with a clear error.
Result<Url> parseUrl(std::string_view url);

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds timeout{30'000};
};

Result<ClientResponse> send(const ClientRequest& request);

// Bytes sent so far of the total, for a progress display.
using Progress = std::function<void(std::uint64_t sent, std::uint64_t total)>;

// Sends the file at `path` as the body (request.body is ignored), in blocks, after the server's
// "100 Continue": a refusal comes back before the bytes go.
Result<ClientResponse> sendFile(const ClientRequest& request, const std::string& path,
                                const Progress& on_progress = {});

// Sends the request and calls `on_line` for each line of the body as it arrives, until the
// server ends it or on_line returns false. Non-2xx answers are returned whole, without calls.
Result<ClientResponse> sendStreaming(const ClientRequest& request,
                                     const std::function<bool(std::string_view line)>& on_line);

}  // namespace sie::http
