// Form-encoded query strings ("a=1&b=x%20y"), for request targets and form-encoded headers.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace sie::http {

// "a=1&b=x%20y" -> {a: 1, b: "x y"}; '+' is a space; a later key replaces an earlier one.
std::map<std::string, std::string> parseQuery(std::string_view query);

}  // namespace sie::http
