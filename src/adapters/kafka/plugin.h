// Registers sink type "kafka".
#pragma once

#include "sie/plugins.h"

namespace sie::kafka {

Status registerPlugins(Plugins& plugins);

}  // namespace sie::kafka
