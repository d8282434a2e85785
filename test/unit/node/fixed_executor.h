// Test helper: a runtime whose instances answer a fixed score after an optional delay.
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "sie/function.h"

namespace sie::node::testing {

class FixedExecutor final : public Executor {
 public:
  FixedExecutor(double score, std::chrono::milliseconds delay) : score_(score), delay_(delay) {}
  [[nodiscard]] std::string_view name() const override { return "fixed"; }
  Status validate(const FunctionSpec&) const override { return ok(); }
  Result<std::unique_ptr<FunctionInstance>> instantiate(const FunctionSpec&) override {
    class Instance final : public FunctionInstance {
     public:
      Instance(double score, std::chrono::milliseconds delay) : score_(score), delay_(delay) {}
      Result<Output> invoke(const Invocation&) override {
        std::this_thread::sleep_for(delay_);
        return Output{
            Decision{score_, score_ >= 0.5, score_ >= 0.5 ? "anomaly" : "normal", "fixed answer"},
            {},
            {}};
      }

     private:
      double score_;
      std::chrono::milliseconds delay_;
    };
    return std::make_unique<Instance>(score_, delay_);
  }

 private:
  double score_;
  std::chrono::milliseconds delay_;
};

}  // namespace sie::node::testing
