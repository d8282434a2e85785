// Registers the Redis state backend (`spec.state.backend: redis`).
#pragma once

#include "sie/plugins.h"

namespace sie::state::redis {

Status registerPlugin(Plugins& plugins);

}  // namespace sie::state::redis
