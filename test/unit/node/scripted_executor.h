// Test helper: a runtime ("scripted") whose answer each function's spec sets, so tests can deploy
// versions that agree, disagree, fail, or cannot start:
//   spec.params.score   the decision's score (anomaly, label "anomaly", at 0.5 or more; else
//                       "normal"); default 0
//   spec.params.fail    1: every invocation fails
//   spec.params.failFirst  the version's first N invocations fail
//   spec.params.delayMs each invocation takes this long
//   spec.handler        "invalid": validate() refuses the spec; "nostart": instances fail to start;
//                       "gated": instance starts wait at the gate too
// Invocations can be held at a gate (hold() / release()) to keep an instance busy, or a deploy
// that warms a "gated" function in progress.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sie/function.h"

namespace sie::node::testing {

class ScriptedExecutor final : public Executor {
 public:
  [[nodiscard]] std::string_view name() const override { return "scripted"; }

  Status validate(const FunctionSpec& spec) const override {
    if (spec.handler == "invalid") {
      return fail(Errc::kInvalidArgument, "spec.handler: 'invalid' is refused by this runtime",
                  spec.source_file);
    }
    return ok();
  }

  Result<std::unique_ptr<FunctionInstance>> instantiate(const FunctionSpec& spec) override {
    if (spec.handler == "nostart") return fail(Errc::kIo, "the instance could not start");
    if (spec.handler == "gated") enter(spec.id() + " start");
    ++started_;
    return std::make_unique<Instance>(*this, spec);
  }

  void retire(const FunctionSpec& spec) override {
    std::lock_guard lock(mu_);
    retired_.push_back(spec.id());
  }

  // Invocations wait at the gate from now on, until release().
  void hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    gate_.notify_all();
  }

  // Invocations so far, by name@version (counted when they begin).
  [[nodiscard]] int calls(const std::string& id) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(id);
    return it == calls_.end() ? 0 : it->second;
  }
  // Invocations waiting at the gate now.
  [[nodiscard]] int waiting() const { return waiting_.load(); }
  [[nodiscard]] int started() const { return started_.load(); }
  [[nodiscard]] std::vector<std::string> retired() const {
    std::lock_guard lock(mu_);
    return retired_;
  }

 private:
  class Instance final : public FunctionInstance {
   public:
    Instance(ScriptedExecutor& owner, const FunctionSpec& spec)
        : owner_(owner), id_(spec.id()), params_(spec.params) {}
    Result<Output> invoke(const Invocation&) override {
      const int call = owner_.enter(id_);
      if (const double ms = param("delayMs"); ms > 0) {
        std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
      }
      if (param("fail") != 0 || call <= param("failFirst")) {
        return fail(Errc::kInternal, id_ + " failed as scripted");
      }
      const double score = param("score");
      const bool anomaly = score >= 0.5;
      return Output{Decision{score, anomaly, anomaly ? "anomaly" : "normal", id_}, {}, {}};
    }

   private:
    [[nodiscard]] double param(const std::string& key) const {
      auto it = params_.find(key);
      return it == params_.end() ? 0.0 : it->second;
    }
    ScriptedExecutor& owner_;
    std::string id_;
    std::map<std::string, double> params_;
  };

  // Counts the call (returns its number for this version) and waits while calls are held.
  int enter(const std::string& id) {
    std::unique_lock lock(mu_);
    const int call = ++calls_[id];
    ++waiting_;
    gate_.wait(lock, [&] { return !held_; });
    --waiting_;
    return call;
  }

  mutable std::mutex mu_;
  std::condition_variable gate_;
  bool held_ = false;
  std::map<std::string, int> calls_;
  std::vector<std::string> retired_;
  std::atomic<int> waiting_{0};
  std::atomic<int> started_{0};
};

}  // namespace sie::node::testing
