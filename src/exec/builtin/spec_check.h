// Deploy-time checks of a FunctionSpec against a builtin handler's declared tables.
#pragma once

#include <optional>
#include <string_view>

#include "exec/builtin/handler.h"

namespace sie::builtin {

// Checks spec.params and spec.inputs against `def` (unknown, missing, out-of-range, wrong kind),
// then def.check. Returns the parameters with defaults applied. Errors carry
// where = spec.source_file.
Result<Params> checkSpec(std::string_view handler, const HandlerDef& def, const FunctionSpec& spec);

// The input binding called `name`, or nullptr.
const InputBinding* findBinding(const FunctionSpec& spec, std::string_view name);

// An optional parameter's value, or nullopt when the spec left it out.
std::optional<double> optionalParam(const Params& params, std::string_view name);

// "window" or "kv", for messages.
std::string_view kindName(InputBinding::Kind kind);

}  // namespace sie::builtin
