// An instance of a process function that speaks the AWS Lambda Runtime API: each worker gets its
// own API endpoint on loopback (AWS_LAMBDA_RUNTIME_API), so custom-runtime `bootstrap`s and the
// Lambda runtime interface clients run unchanged. Served routes (API version 2018-06-01):
//   GET  /2018-06-01/runtime/invocation/next          waits for the next event
//   POST /2018-06-01/runtime/invocation/{id}/response  the result (wire.h)
//   POST /2018-06-01/runtime/invocation/{id}/error     {"errorMessage", "errorType"}
//   POST /2018-06-01/runtime/init/error                initialization failed
#pragma once

#include <memory>

#include "exec/process/worker.h"
#include "sie/function.h"

namespace sie::process {

Result<std::unique_ptr<FunctionInstance>> startLambda(const WorkerPlan& plan,
                                                      const FunctionSpec& spec, int instance);

}  // namespace sie::process
