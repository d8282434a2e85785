// libFuzzer target: the site file loader (node::parseSite) and the gateway and routes blocks it
// hands to the gateway, as a node reads them at start. A refusal must say where and what; an
// accepted site must hold only values its checks allow.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "config/site_config.h"
#include "gateway/gateway_config.h"
#include "http/networks.h"

namespace {

const std::vector<sie::node::SourceText>& functionFiles() {
  static const std::vector<sie::node::SourceText> files = {
      {"plant/functions/volts.yaml", "apiVersion: sie/v1\nkind: Function\n"},
      {"plant/functions/nested/skipped.yaml", ""},
      {"plant/other/skipped.yaml", ""}};
  return files;
}

void check(bool holds) {
  if (!holds) std::abort();
}

void checkRefusal(const sie::Error& error) {
  check(!error.where.empty() && !error.message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const sie::node::SourceText file{"plant/site.yaml",
                                   std::string(reinterpret_cast<const char*>(data), size)};
  auto site = sie::node::parseSite(file, functionFiles());
  if (!site) {
    checkRefusal(site.error());
    return 0;
  }
  const sie::node::DispatcherOptions& d = site->dispatcher;
  check(d.queue_capacity >= 1 && d.queue_capacity <= 10'000'000);
  check(d.workers >= 0 && d.workers <= 256 && d.lanes >= 1 && d.lanes <= 4096);
  check(site->max_artifact_bytes >= (std::uint64_t{1} << 20) &&
        site->max_artifact_bytes <= (std::uint64_t{1} << 40));
  check(site->security.calls_per_second >= 0 && site->security.burst >= 1);
  check(site->state_memory_window >= 16);
  check(sie::http::NetworkList::parse(site->security.callback_networks).has_value());
  for (const auto& f : site->function_files) {
    check(f.path.starts_with(site->functions_dir + "/"));
  }
  for (std::size_t i = 0; i < site->sources.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) check(site->sources[i].name != site->sources[j].name);
  }
  auto gateway = sie::gateway::parseGatewayConfig(site->gateway, site->routes, site->file);
  if (!gateway) checkRefusal(gateway.error());
  return 0;
}
