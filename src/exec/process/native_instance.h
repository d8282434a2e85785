// An instance of a process function that speaks the native framed protocol (frame.h) on a Unix
// socket pair: the lowest-overhead way to run a worker (the SDKs in sdk/ speak it).
#pragma once

#include <memory>

#include "exec/process/worker.h"
#include "sie/function.h"

namespace sie::process {

Result<std::unique_ptr<FunctionInstance>> startNative(const WorkerPlan& plan,
                                                      const FunctionSpec& spec, int instance);

}  // namespace sie::process
