// Registers source type "mqtt" and sink type "mqtt".
#pragma once

#include "sie/plugins.h"

namespace sie::mqtt {

Status registerPlugins(Plugins& plugins);

}  // namespace sie::mqtt
