// The `process` runtime: a function is an executable in any language, run as a pool of sandboxed
// worker processes (worker.h) that speak the native protocol or the AWS Lambda Runtime API.
#pragma once

#include <memory>

#include "sie/function.h"

namespace sie::process {

std::shared_ptr<Executor> makeExecutor();

}  // namespace sie::process
