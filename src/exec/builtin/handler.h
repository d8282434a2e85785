// Builtin handlers: functions compiled into sie, selected by FunctionSpec::handler. Each handler
// declares its parameters and input bindings in tables, so the executor rejects a bad spec at
// deploy time with a message naming the field, and docs can be generated from the tables.
#pragma once

#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sie/function.h"
#include "sie/registry.h"
#include "sie/result.h"

namespace sie::builtin {

// One entry of spec.params. The valid range is [min, max], with open ends when *_open is set.
struct ParamSpec {
  enum class Need {
    kDefault,   // absent: `fallback` is used
    kRequired,  // absent: validation fails
    kOptional,  // absent: stays absent; the handler's check() decides which combinations work
  };
  std::string_view name;
  Need need = Need::kDefault;
  double fallback = 0.0;
  double min = -std::numeric_limits<double>::infinity();
  bool min_open = false;
  double max = std::numeric_limits<double>::infinity();
  bool max_open = false;
  bool integer = false;
  std::string_view description;
};

// One entry of spec.inputs the handler reads (by name).
struct BindingSpec {
  std::string_view name;
  InputBinding::Kind kind = InputBinding::Kind::kWindow;
  bool required = true;
  std::size_t min_last = 1;  // kWindow: smallest accepted `last`
  std::string_view description;
};

// spec.params after validation, with defaults applied; optional parameters may be absent.
using Params = std::map<std::string, double, std::less<>>;

// A handler configured for one function. It holds configuration only, never data from past
// invocations, so one object may serve any number of threads at once.
class Handler {
 public:
  virtual ~Handler() = default;
  // Called only for readings that are not of bad quality and whose values are non-empty and
  // finite; the executor answers the others.
  [[nodiscard]] virtual Result<Output> invoke(const Invocation& call) const = 0;
};

struct HandlerDef {
  std::vector<ParamSpec> params;
  std::vector<BindingSpec> bindings;
  // Rules across fields that the tables cannot express (optional). Runs after the tables passed;
  // messages name the fields ("spec.params.band_low_hz ..."), the executor adds the place.
  std::function<Status(const FunctionSpec& spec, const Params& params)> check;
  // Builds the handler for a spec that passed validation.
  std::function<std::unique_ptr<Handler>(const FunctionSpec& spec, const Params& params)> make;
};

using HandlerTable = Registry<HandlerDef>;

// Adds every handler compiled into sie. Fails when a name is registered twice.
Status registerHandlers(HandlerTable& table);

// One per handler file.
Status registerZscore(HandlerTable& table);
Status registerThreshold(HandlerTable& table);
Status registerAdaptiveThreshold(HandlerTable& table);
Status registerRateOfChange(HandlerTable& table);
Status registerBandEnergy(HandlerTable& table);

}  // namespace sie::builtin
