// The JSON both process protocols carry: one invocation in (the Lambda event, the native 'I'
// frame's body) and one result out. Documented for function authors in docs/PROCESS.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sie/function.h"
#include "sie/result.h"

namespace sie::process {

// {"id", "function", "version", "deadlineMs", "event": {...}, "reading": {...},
//  "windows": {name: {"ts": [...], "value": [...]}}, "values": {...}, "params": {...}}
std::string invocationJson(const Invocation& call, std::int64_t deadline_ms);

// The native protocol's 'B' invocation: the same JSON, but its windows of single values move to a
// binary section after it, so a worker reads them without parsing a number:
//   [u32 JSON length][JSON][per window: u16 name length, name, u32 n, n × i64 ts, n × f64 value]
// all little-endian. Windows of blocks (samples of several values) stay in the JSON.
std::string invocationFrame(const Invocation& call, std::int64_t deadline_ms);

// {"decision": {"score", "anomaly", "label", "detail"} | null,
//  "kv": [{"key", "value", "ttlMs"}], "events": [{"type", "subject", "data"}]}
// An empty body or null is an empty output.
Result<Output> parseResult(std::string_view body);

// A Lambda-style error body {"errorMessage", "errorType"} as one line; other bodies as given
// (shortened).
std::string errorText(std::string_view body);

}  // namespace sie::process
