// HTTP/1.1 POSTs whose whole exchange — connect, send, wait, read — ends by a deadline, for
// callers that a hung server must not hold (the node's decision point asks from the listener's
// threads). Each call runs its own Asio context for at most the timeout, then closes the socket.
// The host is resolved once, when the client is made, so no name lookup runs under a deadline.
// Plain http:// only. Beast stays out of this header.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_client.h"
#include "sie/result.h"

namespace sie::http {

class BoundedClient {
 public:
  // Resolves the URL's host now; an error names the URL.
  static Result<BoundedClient> make(std::string_view url);

  // POSTs `body` (application/json). kTimeout once `timeout` passed, whatever was left to do;
  // kIo when the connection or the answer failed; answers over `max_body` bytes are errors.
  Result<ClientResponse> post(std::string_view body, std::chrono::milliseconds timeout,
                              std::size_t max_body) const;

  [[nodiscard]] const std::string& url() const { return text_; }

 private:
  std::string text_;
  Url url_;
  std::vector<std::string> addresses_;
  std::uint16_t port_ = 0;
};

}  // namespace sie::http
