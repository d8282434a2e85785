// PrivateBus: the bus as one sink sees it. Every event handed to the sink's handlers has passed
// the sink's privacy rules first (event_filter.h), so no sink (MQTT, Kafka, webhook, Modbus, any
// added later) can send a field a rule covers, whatever its own code does. Withheld events and
// personal fields dropped for want of a rule are counted and logged (once per field), never sent.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "privacy/rule_set.h"
#include "sie/bus.h"
#include "sie/metrics.h"

namespace sie::privacy {

class PrivateBus final : public Bus {
 public:
  // `inner` outlives this bus.
  PrivateBus(Bus& inner, std::string sink, std::shared_ptr<const RuleSet> rules);

  std::uint64_t subscribe(std::string pattern, Handler handler) override;
  void unsubscribe(std::uint64_t id) override { inner_.unsubscribe(id); }
  void publish(std::string_view topic, const Event& event) override {
    inner_.publish(topic, event);
  }
  [[nodiscard]] bool hasSubscribers(std::string_view topic) const override {
    return inner_.hasSubscribers(topic);
  }

 private:
  void deliver(const Handler& handler, std::string_view topic, const Event& event);
  void report(const Applied& applied);

  Bus& inner_;
  std::string sink_;
  std::shared_ptr<const RuleSet> rules_;
  Counter& withheld_;
  Counter& dropped_;
  std::mutex mu_;
  std::set<std::string> logged_;  // fields already reported in the log
};

}  // namespace sie::privacy
