#include "sie/plugins.h"

#include "adapters/csv/csv_source.h"
#include "adapters/webhook/plugin.h"
#include "exec/builtin/builtin_executor.h"
#include "exec/process/process_executor.h"
#ifdef SIE_WITH_ONNX
#include "exec/onnx/onnx_executor.h"
#endif
#ifdef SIE_WITH_KAFKA
#include "adapters/kafka/plugin.h"
#endif
#ifdef SIE_WITH_MODBUS
#include "adapters/modbus/plugin.h"
#endif
#ifdef SIE_WITH_MQTT
#include "adapters/mqtt/plugin.h"
#include "adapters/sparkplug/plugin.h"
#endif
#ifdef SIE_WITH_SIM
#include "adapters/sim/sim_source.h"
#endif
#ifdef SIE_WITH_REDIS
#include "state/redis/plugin.h"
#endif
#include "state/embedded_store.h"

namespace sie {

Status registerBuiltinPlugins(Plugins& plugins) {
  SIE_CHECK(plugins.runtimes.add("builtin", builtin::makeExecutor()));
  SIE_CHECK(plugins.runtimes.add("process", process::makeExecutor()));
#ifdef SIE_WITH_ONNX
  SIE_CHECK(plugins.runtimes.add("onnx", onnx::makeExecutor()));
#endif
  SIE_CHECK(plugins.states.add(
      "embedded", StatePlugin{"SQLite (WAL) in the data directory",
                              {},
                              [](const StateOptions& o,
                                 const ConfigValues&) -> Result<std::unique_ptr<StateStore>> {
                                state::EmbeddedOptions embedded;
                                embedded.data_dir = o.data_dir;
                                embedded.batch_interval = o.batch_interval;
                                embedded.memory_window = o.memory_window;
                                embedded.clock = o.clock;
                                embedded.audit_seal = o.audit_seal;
                                return state::openEmbedded(embedded);
                              }}));
#ifdef SIE_WITH_REDIS
  SIE_CHECK(state::redis::registerPlugin(plugins));
#endif
  SIE_CHECK(webhook::registerPlugins(plugins));
  SIE_CHECK(csv::registerPlugin(plugins));
#ifdef SIE_WITH_SIM
  SIE_CHECK(sim::registerPlugin(plugins));
#endif
#ifdef SIE_WITH_MQTT
  SIE_CHECK(mqtt::registerPlugins(plugins));
  SIE_CHECK(sparkplug::registerPlugins(plugins));
#endif
#ifdef SIE_WITH_MODBUS
  SIE_CHECK(modbus::registerPlugins(plugins));
#endif
#ifdef SIE_WITH_KAFKA
  SIE_CHECK(kafka::registerPlugins(plugins));
#endif
  return ok();
}

}  // namespace sie
