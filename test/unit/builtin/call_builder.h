// Test helper: owns everything an Invocation refers to and builds specs for builtin handlers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "exec/builtin/builtin_executor.h"
#include "sie/function.h"

namespace sie::builtin::testing {

inline constexpr std::int64_t kSecond = 1'000'000'000;

inline InputBinding windowBinding(std::string name, std::size_t last) {
  InputBinding b;
  b.name = std::move(name);
  b.kind = InputBinding::Kind::kWindow;
  b.last = last;
  return b;
}

inline InputBinding kvBinding(std::string name, std::string key) {
  InputBinding b;
  b.name = std::move(name);
  b.kind = InputBinding::Kind::kKv;
  b.key = std::move(key);
  return b;
}

inline FunctionSpec makeSpec(std::string handler, std::map<std::string, double> params,
                             std::vector<InputBinding> inputs = {}) {
  FunctionSpec spec;
  spec.name = "test-fn";
  spec.version = "1";
  spec.runtime = "builtin";
  spec.handler = std::move(handler);
  spec.triggers = {"plant/#"};
  spec.params = std::move(params);
  spec.inputs = std::move(inputs);
  spec.source_file = "functions/test.yaml";
  return spec;
}

inline Sample sample(std::int64_t ts_ns, double value, Quality quality = Quality::kGood) {
  return Sample{ts_ns, {value}, quality};
}

// One invocation's inputs. Fill the public members, then call invoke().
struct Call {
  explicit Call(FunctionSpec s) : spec(std::move(s)) {
    reading.sensor = Symbol::intern("plant/pump1/temp");
    event.type = std::string(kTelemetryType);
    event.source = "sie://test";
  }

  Call& value(double v, std::int64_t ts_ns = 0) {
    reading.values = {v};
    reading.ts_ns = ts_ns;
    return *this;
  }

  [[nodiscard]] Invocation invocation() const {
    return Invocation{event, reading, windows, values, spec};
  }

  FunctionSpec spec;
  Event event;
  Telemetry reading;
  std::map<std::string, std::vector<Sample>, std::less<>> windows;
  std::map<std::string, double, std::less<>> values;
};

// Instantiates `spec` on a fresh builtin executor; fails the test when that fails.
inline std::unique_ptr<FunctionInstance> instantiate(const FunctionSpec& spec) {
  auto made = makeExecutor()->instantiate(spec);
  EXPECT_TRUE(made.has_value()) << (made ? "" : made.error().str());
  return made ? std::move(*made) : nullptr;
}

// Invokes and returns the decision; fails the test on an error or a missing decision.
inline Decision decide(FunctionInstance& instance, const Call& call) {
  auto out = instance.invoke(call.invocation());
  EXPECT_TRUE(out.has_value()) << (out ? "" : out.error().str());
  if (!out || !out->decision) {
    ADD_FAILURE() << "no decision";
    return {};
  }
  return *out->decision;
}

// The message of a validation error, or "" when the spec is valid.
inline std::string validationError(const FunctionSpec& spec) {
  auto st = makeExecutor()->validate(spec);
  return st ? std::string() : st.error().message;
}

}  // namespace sie::builtin::testing
