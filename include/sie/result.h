// Result<T>: the error type used across sie. No exceptions on the event path or across plugin
// boundaries; errors carry a code, a message a user can act on, and the place (file:line, field).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace sie {

enum class Errc {
  kInvalidArgument,  // the caller's input is wrong (config, payload, request)
  kParse,            // bytes could not be decoded
  kNotFound,
  kAlreadyExists,
  kOverload,  // a bounded queue or limit refused the work
  kTimeout,
  kIo,       // the OS or a storage engine failed
  kCorrupt,  // stored data failed an integrity check
  kUnsupported,
  kInternal,          // a broken invariant; always a bug
  kUnauthenticated,   // the caller did not prove who it is (no, a bad or an expired credential)
  kPermissionDenied,  // the caller is known and may not do this
};

std::string_view errcName(Errc code);

struct Error {
  Errc code = Errc::kInternal;
  std::string message;
  std::string where;  // "functions/pump.yaml:12", "payload", "" when unknown

  // "functions/pump.yaml:12: spec.scaling.max must be >= min" or just the message.
  [[nodiscard]] std::string str() const { return where.empty() ? message : where + ": " + message; }
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> fail(Errc code, std::string message, std::string where = {}) {
  return tl::unexpected<Error>(Error{code, std::move(message), std::move(where)});
}

inline Status ok() { return {}; }

}  // namespace sie

// SIE_TRY(expr): evaluates a Result; returns its error from the enclosing function, otherwise
// yields the value. Uses a GNU statement expression (GCC and Clang).
#define SIE_TRY(...)                                                      \
  __extension__({                                                         \
    auto&& sie_try_result_ = (__VA_ARGS__);                               \
    if (!sie_try_result_) return tl::unexpected(sie_try_result_.error()); \
    std::move(*sie_try_result_);                                          \
  })

// SIE_CHECK(status): returns the error of a Status from the enclosing function.
#define SIE_CHECK(...)                                                        \
  do {                                                                        \
    auto&& sie_check_result_ = (__VA_ARGS__);                                 \
    if (!sie_check_result_) return tl::unexpected(sie_check_result_.error()); \
  } while (0)
