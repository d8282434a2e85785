// Secrets (passwords) live in files, not in site files: the first line of the file, without its
// line ending.
#pragma once

#include <string>

#include "sie/result.h"

namespace sie {

// `key` names the config key for the message ("passwordFile"); `where` locates it.
Result<std::string> readSecretFile(const std::string& path, const std::string& key,
                                   const std::string& where);

}  // namespace sie
