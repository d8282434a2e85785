// One connection to a loopback HTTP server as a fuzz target drives it: the input's bytes go out
// exactly as given (any number of pipelined requests, any framing), then the write side closes;
// the answers are read until the server closes and checked to be well-framed HTTP/1.1.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sie::fuzz {

struct ExchangeOptions {
  // Longest the whole exchange may take before it counts as a hang.
  std::chrono::milliseconds deadline{10'000};
  // How long a streamed (chunked) answer is read before the connection is dropped: streams such
  // as a log follow last until the client leaves.
  std::chrono::milliseconds stream_read{200};
};

struct Exchange {
  std::vector<int> statuses;  // of every answer, interim ones (100 Continue) included
  // What is wrong with the answers, "" when nothing: a status outside 100..599, bytes that are
  // not an HTTP response, more answers than requests, a body on the answer to HEAD, an answer
  // cut short, or no end within the deadline.
  std::string problem;
};

Exchange exchange(std::uint16_t port, std::string_view bytes, const ExchangeOptions& options = {});

}  // namespace sie::fuzz
