// Registers source type "sparkplug" (Sparkplug B host over MQTT).
#pragma once

#include "sie/plugins.h"

namespace sie::sparkplug {

Status registerPlugins(Plugins& plugins);

}  // namespace sie::sparkplug
