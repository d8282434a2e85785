// Small OpenSSL helpers shared by signing and TLS set-up.
#pragma once

#include <string>

namespace sie {

// OpenSSL's reason for the last failure; clears its error queue so that stale errors never
// surface in a later, unrelated message.
std::string opensslReason();

// A pem_password_cb that refuses: OpenSSL's default would prompt on the terminal, and sie reads
// no encrypted keys.
int noPassphrase(char* buf, int size, int rwflag, void* userdata);

}  // namespace sie
