// The MQTT source against a real mosquitto broker when the connection breaks, or the node stops,
// after a batch was made durable and before its acknowledgements left: the broker delivers the
// batch again, and every message must still be taken exactly once, in order, although its
// payload (a bare number) carries no timestamp to tell a repeat by.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "adapters/mqtt/mqtt_source.h"
#include "servers.h"
#include "sie/metrics.h"

namespace sie::mqtt {
namespace {

using testing::Mosquitto;
using testing::run;
using testing::waitUntil;

constexpr int kMessages = 500;

// Shuts down every socket of this process connected to 127.0.0.1:port, as a lost link would.
void breakConnectionsTo(int port) {
  DIR* fds = ::opendir("/proc/self/fd");
  ASSERT_NE(fds, nullptr);
  while (const dirent* entry = ::readdir(fds)) {
    const int fd = std::atoi(entry->d_name);
    sockaddr_in peer{};
    socklen_t length = sizeof peer;
    if (fd <= 2 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) != 0) continue;
    if (peer.sin_family == AF_INET && ntohs(peer.sin_port) == port) ::shutdown(fd, SHUT_RDWR);
  }
  ::closedir(fds);
}

// The gateway's part: records what it accepts and keeps the sources' bookmarks in memory, which
// here is the durable state. `on_sync` runs inside sync(), when the batch counts as durable.
class RecordingIngest final : public Ingest {
 public:
  // As the gateway does: a redelivery that was recorded is skipped, one that was not (lost) is
  // recorded; either way it comes with the arrival time it had the first time.
  Status ingestRaw(const RawMessage& message) override {
    std::lock_guard lock(mu_);
    if (refusing_) return fail(Errc::kOverload, "the node is going down");
    const std::string payload(message.payload);
    const auto first = arrivals_.find(payload);
    if (message.redelivered) {
      ++redelivered_;
      if (first != arrivals_.end()) {
        EXPECT_EQ(message.received_ns, first->second) << payload;
        return ok();
      }
    }
    arrivals_.emplace(payload, message.received_ns);
    payloads_.push_back(payload);
    return ok();
  }
  Status ingest(Telemetry /*reading*/, std::string_view /*source*/) override { return ok(); }
  Status reject(const RawMessage& /*message*/, std::string_view /*reason*/) override {
    return ok();
  }
  Status sync() override {
    if (++syncs_ == sync_hook_at_ && on_sync) on_sync();
    return ok();
  }
  Result<std::optional<std::string>> bookmark(std::string_view name) override {
    std::lock_guard lock(mu_);
    const auto it = bookmarks_.find(std::string(name));
    return it == bookmarks_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  Status setBookmark(std::string_view name, std::string_view value) override {
    std::lock_guard lock(mu_);
    bookmarks_[std::string(name)] = value;
    return ok();
  }

  void hookSync(int at, std::function<void()> hook) {
    sync_hook_at_ = at;
    on_sync = std::move(hook);
  }
  void refuse(bool on) {
    std::lock_guard lock(mu_);
    refusing_ = on;
  }
  std::vector<std::string> payloads() {
    std::lock_guard lock(mu_);
    return payloads_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> payloads_;
  std::map<std::string, std::optional<std::int64_t>> arrivals_;  // payload: its first arrival
  int redelivered_ = 0;
  std::map<std::string, std::string> bookmarks_;
  bool refusing_ = false;
  std::atomic<int> syncs_{0};
  int sync_hook_at_ = 0;
  std::function<void()> on_sync;
};

class MqttRedeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::err); }
  void TearDown() override {
    if (source_) source_->stop();
  }

  std::unique_ptr<MqttSource> makeSource() const {
    SourceOptions options;
    options.connection.port = broker_.port();
    options.connection.client_id = name_;
    options.connection.clean_session = false;
    options.connection.reconnect_min = std::chrono::milliseconds(20);
    options.connection.reconnect_max = std::chrono::milliseconds(100);
    options.connection.max_inflight = 20;
    options.topics.push_back(*TopicTemplate::parse("plant/{asset}/temp"));
    options.format = PayloadFormat::kNumber;
    return std::make_unique<MqttSource>(name_, options);
  }

  void startSource() {
    source_ = makeSource();
    ASSERT_TRUE(source_->start(ingest_));
    ASSERT_TRUE(waitUntil([&] { return connected() == 1; }));
  }

  [[nodiscard]] double connected() const {
    return metrics().gauge("sie_mqtt_connected", "", {{"client", name_}}).value();
  }
  [[nodiscard]] std::uint64_t recognized() const {
    return metrics()
        .counter("sie_mqtt_redeliveries_recognized_total", "", {{"source", name_}})
        .value();
  }

  // The session exists (subscribed) while nobody is connected: the broker queues every message.
  void queueMessages() {
    queueMessagesWith(fmt::format("seq 1 {} | mosquitto_pub -p {} -q 1 -l -t plant/p1/temp",
                                  kMessages, broker_.port()));
  }
  void queueMessagesWith(const std::string& publish) {
    startSource();
    source_->stop();
    source_.reset();
    ASSERT_EQ(run(publish), 0);
  }

  void expectEachMessageOnceInOrder() {
    ASSERT_TRUE(waitUntil([&] { return ingest_.payloads().size() >= kMessages; }))
        << ingest_.payloads().size();
    const std::vector<std::string> got = ingest_.payloads();
    ASSERT_EQ(got.size(), std::size_t{kMessages});
    for (int n = 1; n <= kMessages; ++n) ASSERT_EQ(got[n - 1], std::to_string(n)) << "at " << n;
    EXPECT_GT(recognized(), 0U) << "the broker delivered nothing again: the test proved nothing";
  }

  Mosquitto broker_;
  std::string name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  RecordingIngest ingest_;
  std::unique_ptr<MqttSource> source_;
};

TEST_F(MqttRedeliveryTest, ALinkLostBeforeTheAcknowledgementsTakesNothingTwice) {
  queueMessages();
  ingest_.hookSync(2, [&] { breakConnectionsTo(broker_.port()); });
  startSource();
  expectEachMessageOnceInOrder();
}

TEST_F(MqttRedeliveryTest, ANodeRestartedAfterADurableBatchTakesNothingTwice) {
  queueMessages();
  std::atomic<bool> down{false};
  ingest_.hookSync(2, [&] {  // the process "dies": nothing after this batch is taken or acked
    ingest_.refuse(true);
    breakConnectionsTo(broker_.port());
    down = true;
  });
  startSource();
  ASSERT_TRUE(waitUntil([&] { return down.load(); }));
  source_->stop();
  source_.reset();
  ASSERT_GT(ingest_.payloads().size(), 0U);

  ingest_.refuse(false);
  startSource();  // a new window, restored from the bookmark
  expectEachMessageOnceInOrder();
}

// A batch of large messages is taken in parts (the source holds at most a few MiB at once), and
// still every message once, in order.
TEST_F(MqttRedeliveryTest, LargeMessagesAreTakenInPartsEachOnceInOrder) {
  queueMessagesWith(
      fmt::format("for i in $(seq 1 20); do head -c 1048576 /dev/zero | tr '\\0' \"$((i % 10))\" | "
                  "mosquitto_pub -p {} -q 1 -t plant/p1/temp -s; done",
                  broker_.port()));
  startSource();
  ASSERT_TRUE(waitUntil([&] { return ingest_.payloads().size() >= 20; }))
      << ingest_.payloads().size();
  const std::vector<std::string> got = ingest_.payloads();
  ASSERT_EQ(got.size(), 20U);
  for (int i = 1; i <= 20; ++i) {
    ASSERT_EQ(got[i - 1].size(), 1048576U) << i;
    EXPECT_EQ(got[i - 1].front(), static_cast<char>('0' + i % 10)) << i;
  }
}

// Without the DUP flag the same bytes arriving first after a reconnect look like a redelivery;
// after a clean stop nothing can come again, so they must count as new.
TEST_F(MqttRedeliveryTest, AfterACleanStopTheSameBytesAgainAreANewMessage) {
  const std::string pub =
      fmt::format("mosquitto_pub -p {} -q 1 -t plant/p1/temp -m 7", broker_.port());
  startSource();  // the session and its subscription
  source_->stop();
  ASSERT_EQ(run(pub), 0);
  startSource();
  ASSERT_TRUE(waitUntil([&] { return ingest_.payloads().size() == 1; }));
  source_->stop();
  for (int slot = 0; slot < 66; ++slot) {  // every slot emptied
    const auto kept = ingest_.bookmark(fmt::format("{}/redelivery/{}", name_, slot)).value();
    EXPECT_TRUE(!kept || kept->empty()) << slot << ": " << *kept;
  }

  ASSERT_EQ(run(pub), 0);
  startSource();
  ASSERT_TRUE(waitUntil([&] { return ingest_.payloads().size() == 2; }))
      << ingest_.payloads().size();
  EXPECT_EQ(recognized(), 0U);
}

}  // namespace
}  // namespace sie::mqtt
