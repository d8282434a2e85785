#include "control/async_calls.h"

#include <atomic>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "http/http_server.h"

namespace sie {
namespace {

TEST(AsyncCallsTest, AStoppingNodeTriesEachCallbackOnce) {
  // Undeliverable callbacks were retried with back-off while the node stopped: a full queue held
  // the stop for minutes (the HTTP fuzz target's exits did).
  std::atomic<int> attempts{0};
  auto receiver = http::HttpServer::start("127.0.0.1:0", [&](const http::HttpRequest&) {
    ++attempts;
    return http::HttpResponse{503, "text/plain", "busy", {}};
  });
  ASSERT_TRUE(receiver) << receiver.error().str();
  const std::string url = fmt::format("http://127.0.0.1:{}/done", (*receiver)->port());
  node::AsyncCalls calls(1);
  constexpr int kCalls = 10;
  for (int i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(calls.submit(fmt::format("call-{}", i), "f", url, [] {
      return std::pair<int, nlohmann::json>{200, nlohmann::json::object()};
    }));
  }
  calls.stop();
  // Each queued call still ran and was offered once; only the first may have been retried.
  EXPECT_GE(attempts.load(), kCalls);
  EXPECT_LE(attempts.load(), kCalls + 2);
  (*receiver)->stop();
}

}  // namespace
}  // namespace sie
