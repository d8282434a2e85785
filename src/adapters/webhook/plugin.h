// Registers sink type "webhook".
#pragma once

#include "sie/plugins.h"

namespace sie::webhook {

Status registerPlugins(Plugins& plugins);

}  // namespace sie::webhook
