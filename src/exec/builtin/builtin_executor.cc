#include "exec/builtin/builtin_executor.h"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "exec/builtin/handler.h"
#include "exec/builtin/readings.h"
#include "exec/builtin/spec_check.h"
#include "sie/metrics.h"

namespace sie::builtin {
namespace {

constexpr std::string_view kRuntime = "builtin";

class BuiltinInstance final : public FunctionInstance {
 public:
  BuiltinInstance(std::unique_ptr<Handler> handler, const std::string& handler_name)
      : handler_(std::move(handler)),
        invocations_(metrics().counter("sie_builtin_invocations_total",
                                       "Invocations of builtin handlers.",
                                       {{"handler", handler_name}})),
        errors_(metrics().counter("sie_builtin_errors_total",
                                  "Invocations of builtin handlers that returned an error.",
                                  {{"handler", handler_name}})) {}

  Result<Output> invoke(const Invocation& call) override {
    invocations_.inc();
    const Telemetry& r = call.reading;
    if (r.quality == Quality::kBad) {
      return notScored(kBadQuality, r.flag.empty() ? "reading quality is bad"
                                                   : "reading quality is bad: " + r.flag);
    }
    if (r.values.empty()) return notScored(kInvalidValue, "reading has no values");
    if (!allFinite(r.values)) return notScored(kInvalidValue, "reading holds NaN or infinity");
    auto out = handler_->invoke(call);
    if (!out) {
      errors_.inc();
      if (out.error().where.empty()) out.error().where = call.spec.id();
    }
    return out;
  }

 private:
  std::unique_ptr<Handler> handler_;
  Counter& invocations_;
  Counter& errors_;
};

class BuiltinExecutor final : public Executor {
 public:
  explicit BuiltinExecutor(HandlerTable table) : table_(std::move(table)) {}

  [[nodiscard]] std::string_view name() const override { return kRuntime; }

  Status validate(const FunctionSpec& spec) const override {
    auto params = check(spec);
    if (!params) return tl::unexpected(params.error());
    return ok();
  }

  Result<std::unique_ptr<FunctionInstance>> instantiate(const FunctionSpec& spec) override {
    auto params = check(spec);
    if (!params) return tl::unexpected(params.error());
    const HandlerDef* def = *table_.find(spec.handler);
    return std::make_unique<BuiltinInstance>(def->make(spec, *params), spec.handler);
  }

 private:
  Result<Params> check(const FunctionSpec& spec) const {
    if (spec.runtime != kRuntime) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("spec.runtime is '{}', not '{}'", spec.runtime, kRuntime),
                  spec.source_file);
    }
    auto def = table_.find(spec.handler);
    if (!def) return fail(Errc::kInvalidArgument, def.error().message, spec.source_file);
    return checkSpec(spec.handler, **def, spec);
  }

  HandlerTable table_;
};

}  // namespace

Status registerHandlers(HandlerTable& table) {
  SIE_CHECK(registerZscore(table));
  SIE_CHECK(registerThreshold(table));
  SIE_CHECK(registerAdaptiveThreshold(table));
  SIE_CHECK(registerRateOfChange(table));
  SIE_CHECK(registerBandEnergy(table));
  return ok();
}

std::shared_ptr<Executor> makeExecutor() {
  HandlerTable table("builtin handler");
  if (auto added = registerHandlers(table); !added) {
    std::fprintf(stderr, "sie: builtin runtime: %s\n", added.error().str().c_str());
    std::abort();
  }
  return std::make_shared<BuiltinExecutor>(std::move(table));
}

}  // namespace sie::builtin
