// libFuzzer target: the C++ worker SDK's invocation frames (sie::worker::parseInvocation), 'B'
// (JSON plus binary windows) and 'I' (JSON). A malformed frame may only throw; a parsed one reads
// back its windows with their timestamps and values in step.
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string_view>

#include <sie/worker.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const char type : {'B', 'I'}) {
    try {
      const sie::worker::Invocation in = sie::worker::parseInvocation(type, body);
      for (const char* name : {"history", "x", ""}) {
        const sie::worker::Window w = in.window(name);
        if (w.ts.size() != w.value.size()) std::abort();
      }
      (void)in.value();
      (void)in.sensor();
      (void)in.param("limit");
    } catch (const std::exception&) {
      // the SDK answers the node with an 'E' frame carrying the message
    }
  }
  return 0;
}
