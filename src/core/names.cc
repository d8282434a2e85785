// Display names of the public enums.
#include "sie/event.h"
#include "sie/result.h"

namespace sie {

std::string_view errcName(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument:
      return "invalid_argument";
    case Errc::kParse:
      return "parse";
    case Errc::kNotFound:
      return "not_found";
    case Errc::kAlreadyExists:
      return "already_exists";
    case Errc::kOverload:
      return "overload";
    case Errc::kTimeout:
      return "timeout";
    case Errc::kIo:
      return "io";
    case Errc::kCorrupt:
      return "corrupt";
    case Errc::kUnsupported:
      return "unsupported";
    case Errc::kInternal:
      return "internal";
    case Errc::kUnauthenticated:
      return "unauthenticated";
    case Errc::kPermissionDenied:
      return "permission_denied";
  }
  return "unknown";
}

std::string_view qualityName(Quality q) {
  switch (q) {
    case Quality::kGood:
      return "good";
    case Quality::kUncertain:
      return "uncertain";
    case Quality::kBad:
      return "bad";
  }
  return "unknown";
}

}  // namespace sie
