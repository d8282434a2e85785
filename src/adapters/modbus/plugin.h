// Registers source type "modbus" (polling) and sink type "modbus" (write actions).
#pragma once

#include "sie/plugins.h"

namespace sie::modbus {

Status registerPlugins(Plugins& plugins);

}  // namespace sie::modbus
