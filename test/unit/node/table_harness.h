// Test helper: a function table as a node assembles it — a real dispatcher, router, embedded
// state store (SQLite in a temporary folder), actions and bus — serving the "scripted" runtime
// (scripted_executor.h). Readings sent with send() take the node's path: router, dispatcher,
// the table's slot.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "gateway/router.h"
#include "runtime/actions.h"
#include "runtime/dispatcher.h"
#include "runtime/function_table.h"
#include "runtime/local_bus.h"
#include "scripted_executor.h"
#include "sie/clock.h"
#include "sie/plugins.h"
#include "state/embedded_store.h"

namespace sie::node::testing {

// A fresh folder named after the running test, removed with the object.
class TestDir {
 public:
  explicit TestDir(const std::string& tag) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            fmt::format("sie-{}-{}-{}-{}", tag, ::getpid(), info->test_suite_name(), info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;
  [[nodiscard]] std::string str() const { return path_.string(); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A spec of the scripted runtime triggered by plant/#, answering `score`.
inline FunctionSpec scriptedSpec(const std::string& name, const std::string& version,
                                 double score = 0.0) {
  FunctionSpec s;
  s.name = name;
  s.version = version;
  s.runtime = "scripted";
  s.handler = "answer";
  s.triggers = {"plant/#"};
  s.params["score"] = score;
  s.scaling.min = 0;
  s.scaling.max = 2;
  s.source_file = "functions/" + name + ".yaml:1";
  return s;
}

class TableHarness {
 public:
  explicit TableHarness(const std::string& tag) : dir_(tag) {
    // spdlog's registry is made on first use, inside the uninstrumented libspdlog: made here, not
    // by two workers' first log lines at once, which ThreadSanitizer cannot see ordered.
    spdlog::default_logger();
    state::EmbeddedOptions o;
    o.data_dir = (dir_.path() / "state").string();
    auto opened = state::openEmbedded(o);
    EXPECT_TRUE(opened) << opened.error().str();
    state_ = std::move(opened).value();  // throws, failing the test, when the store did not open
    actions_ = std::make_unique<Actions>(bus_, state_->audit(), systemClock());
    DispatcherOptions options;
    options.workers = 2;
    options.lanes = 4;
    dispatcher_ = std::make_unique<Dispatcher>(options, state_->deadLetters());
    EXPECT_TRUE(runtimes_.add("scripted", runtime_));
    table_ = std::make_unique<FunctionTable>(*dispatcher_, router_, *state_, *actions_, bus_,
                                             runtimes_, systemClock());
    dispatcher_->start();
  }
  // In the node's order: no event runs when the table goes.
  ~TableHarness() {
    runtime_->release();  // a test that failed while holding invocations
    dispatcher_->stop();
    table_->stop();
    table_.reset();
    dispatcher_.reset();
    actions_.reset();
    state_.reset();
  }
  TableHarness(const TableHarness&) = delete;
  TableHarness& operator=(const TableHarness&) = delete;

  // Routes a reading of `sensor` to the functions it triggers and queues it for each.
  Status send(const std::string& sensor, std::int64_t ts_ns = 1'000'000'000) {
    Event event;
    event.subject = sensor;
    event.telemetry = Telemetry{Symbol::intern(sensor), ts_ns, {1.0}};
    const auto targets = router_.route(event.telemetry->sensor);
    return dispatcher_->deliver(std::move(event), *targets);
  }
  // Whether `sensor` triggers any function now.
  [[nodiscard]] bool routed(const std::string& sensor) const {
    return !router_.route(Symbol::intern(sensor))->empty();
  }
  bool drain() { return dispatcher_->drain(std::chrono::seconds(10)); }

  [[nodiscard]] FunctionTable& table() { return *table_; }
  [[nodiscard]] ScriptedExecutor& runtime() { return *runtime_; }
  [[nodiscard]] StateStore& state() { return *state_; }
  [[nodiscard]] Actions& actions() { return *actions_; }
  [[nodiscard]] std::shared_ptr<ScriptedExecutor> runtimePtr() const { return runtime_; }
  [[nodiscard]] Dispatcher& dispatcher() { return *dispatcher_; }
  [[nodiscard]] const TestDir& dir() const { return dir_; }

 private:
  TestDir dir_;
  std::unique_ptr<StateStore> state_;
  LocalBus bus_;
  std::unique_ptr<Actions> actions_;
  std::unique_ptr<Dispatcher> dispatcher_;
  gateway::Router router_;
  std::shared_ptr<ScriptedExecutor> runtime_ = std::make_shared<ScriptedExecutor>();
  Registry<std::shared_ptr<Executor>> runtimes_{"runtime"};
  std::unique_ptr<FunctionTable> table_;
};

}  // namespace sie::node::testing
