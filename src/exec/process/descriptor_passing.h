// Descriptors from sie-launch to the node over a Unix socket (SCM_RIGHTS): the seccomp listener
// of each worker (SeccompWatch) and the namespaces of each function (FunctionView).
#pragma once

#include <sys/types.h>

#include <span>
#include <vector>

namespace sie::process {

// Receives one message without waiting: its bytes into `payload`, its descriptors (up to four,
// close-on-exec) appended to `fds`. The byte count, or -1 when there was none.
ssize_t receiveDescriptors(int socket, std::span<char> payload, std::vector<int>& fds);

}  // namespace sie::process
