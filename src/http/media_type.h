// The media type of a Content-Type header value.
#pragma once

#include <string>
#include <string_view>

namespace sie::http {

// Lower case, without parameters or surrounding blanks: "Text/Plain; charset=x" -> "text/plain".
std::string mediaType(std::string_view content_type);

}  // namespace sie::http
