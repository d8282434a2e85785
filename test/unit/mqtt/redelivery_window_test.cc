#include "adapters/mqtt/redelivery_window.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sie::mqtt {
namespace {

std::uint64_t d(int n) { return RedeliveryWindow::digest("plant/p1/temp", std::to_string(n)); }
std::optional<std::int64_t> at(int n) { return 1'700'000'000'000'000'000 + n; }  // arrival time

RedeliveryWindow accepted(int first, int last) {
  RedeliveryWindow window(0);
  for (int n = first; n <= last; ++n) window.accepted(d(n), *at(n));
  return window;
}

// What a store would hold after applying every save() in turn.
std::vector<std::string> saved(RedeliveryWindow& window, std::vector<std::string> slots = {}) {
  slots.resize(window.slots());
  for (auto& [slot, value] : window.save()) slots.at(slot) = value;
  return slots;
}

TEST(RedeliveryWindowTest, ASuffixDeliveredAgainAfterAReconnectIsRecognisedInOrder) {
  RedeliveryWindow window = accepted(1, 5);
  window.reconnected();
  EXPECT_EQ(window.redelivered(d(3)), at(3));
  EXPECT_EQ(window.redelivered(d(4)), at(4));
  EXPECT_EQ(window.redelivered(d(5)), at(5));
  EXPECT_FALSE(window.redelivered(d(6)).has_value());  // new: the run is over
  window.accepted(d(6), *at(6));
  EXPECT_FALSE(window.redelivered(d(3)).has_value());  // a repeat later in the connection is new
}

TEST(RedeliveryWindowTest, NothingIsARedeliveryWithoutAReconnect) {
  RedeliveryWindow window = accepted(1, 5);
  EXPECT_FALSE(window.redelivered(d(5)).has_value());
}

TEST(RedeliveryWindowTest, AFirstMessageSeenTwiceInTheWindowIsNotTakenForARedelivery) {
  RedeliveryWindow window(0);
  for (const int n : {7, 1, 7}) window.accepted(d(n), *at(n));  // a bare value that repeats
  window.reconnected();
  EXPECT_FALSE(window.redelivered(d(7)).has_value());  // ambiguous: recorded again rather than lost
}

TEST(RedeliveryWindowTest, ARunThatLeavesTheAcceptedOrderEnds) {
  RedeliveryWindow window = accepted(1, 5);
  window.reconnected();
  EXPECT_EQ(window.redelivered(d(2)), at(2));
  EXPECT_FALSE(window.redelivered(d(4)).has_value());  // 3 was expected
  EXPECT_FALSE(
      window.redelivered(d(3)).has_value());  // and nothing after the end of the run matches
}

TEST(RedeliveryWindowTest, TheLastThousandsOfMessagesAreKeptNotJustMaxInflight) {
  RedeliveryWindow window(20);  // a broker may redeliver far more than it was asked to keep
  for (int n = 1; n <= 5000; ++n) window.accepted(d(n), *at(n));
  const std::size_t kept = RedeliveryWindow::kMinCapacity + RedeliveryWindow::kSlotSize;
  EXPECT_EQ(window.size(), kept);
  window.reconnected();
  EXPECT_FALSE(window.redelivered(d(static_cast<int>(5000 - kept))).has_value());  // forgotten
  window.reconnected();
  EXPECT_EQ(window.redelivered(d(static_cast<int>(5000 - kept + 1))),
            at(static_cast<int>(5000 - kept + 1)));
}

TEST(RedeliveryWindowTest, ACleanEndForgetsEverythingAndEmptiesTheSavedSlots) {
  RedeliveryWindow window = accepted(1, 5);
  std::vector<std::string> slots = saved(window);
  window.clear();
  EXPECT_EQ(window.size(), 0U);
  slots = saved(window, slots);
  for (const auto& slot : slots) EXPECT_EQ(slot, "");
  window.reconnected();
  EXPECT_FALSE(window.redelivered(d(5)).has_value());
}

TEST(RedeliveryWindowTest, SavedSlotsRestoreTheWindowInAnotherRun) {
  RedeliveryWindow window = accepted(1, 100);
  std::vector<std::string> slots = saved(window);
  EXPECT_EQ(slots[0].substr(0, 2), "0:");
  EXPECT_EQ(slots[0].size(), 2 + 64 * 32U);
  EXPECT_EQ(slots[1].substr(0, 3), "64:");
  for (int n = 101; n <= 110; ++n) window.accepted(d(n), *at(n));
  const auto changes = window.save();
  ASSERT_EQ(changes.size(), 1U);  // only the slot the new messages went into
  EXPECT_EQ(changes[0].first, 1U);
  slots[1] = changes[0].second;

  RedeliveryWindow next(0);
  ASSERT_TRUE(next.restore(slots));
  EXPECT_EQ(next.size(), 110U);
  next.reconnected();
  EXPECT_EQ(next.redelivered(d(109)), at(109));
  EXPECT_EQ(next.redelivered(d(110)), at(110));
  next.accepted(d(111), *at(111));  // numbering goes on where the last run stopped
  EXPECT_EQ(next.save().front().second.substr(0, 3), "64:");
}

TEST(RedeliveryWindowTest, ASlotLeftFromAnOlderCycleIsNotPartOfTheWindow) {
  RedeliveryWindow window = accepted(1, 100);
  std::vector<std::string> slots = saved(window);
  slots[5] = "1:" + std::string(32, 'a');  // older than the newest run
  RedeliveryWindow next(0);
  ASSERT_TRUE(next.restore(slots));
  EXPECT_EQ(next.size(), 100U);
}

TEST(RedeliveryWindowTest, AMalformedSlotIsRefusedAndLeavesTheWindowEmpty) {
  RedeliveryWindow window = accepted(1, 5);
  std::vector<std::string> slots = saved(window);
  slots[1] = "64:0123";
  auto odd = window.restore(slots);
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().message.find("slot 1"), std::string::npos) << odd.error().message;
  EXPECT_NE(odd.error().message.find("16-digit"), std::string::npos) << odd.error().message;
  EXPECT_EQ(window.size(), 0U);

  slots[1] = "64:" + std::string(16, 'a') + "-123456789abcdef";
  auto bad = window.restore(slots);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("at character 19"), std::string::npos) << bad.error().message;
  slots[1] = "x:";
  EXPECT_FALSE(window.restore(slots));
  EXPECT_EQ(window.size(), 0U);
  for (const auto& [slot, value] : window.save()) EXPECT_EQ(value, "") << slot;  // no stale slot
}

TEST(RedeliveryWindowTest, TheDigestTellsTopicFromPayload) {
  EXPECT_NE(RedeliveryWindow::digest("a", "bc"), RedeliveryWindow::digest("ab", "c"));
  EXPECT_EQ(RedeliveryWindow::digest("a", "bc"), RedeliveryWindow::digest("a", "bc"));
}

}  // namespace
}  // namespace sie::mqtt
