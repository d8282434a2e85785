// pump-rule (C++): a bearing running hot, on the native protocol through the C++ SDK.
#include <sie/worker.h>

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

int main() {
  return sie::worker::serve([](const sie::worker::Invocation& in) {
    const sie::worker::Window history = in.window("history");
    const double rise_limit = in.param("rise_limit", 8.0);
    const double max_temp = in.param("max_temp", 90.0);
    if (history.size() < 10) {
      return sie::worker::Result::of({.score = 0, .anomaly = false, .label = "warming-up"});
    }
    const double mean =
        std::accumulate(history.value.begin(), history.value.end(), 0.0) / history.size();
    const double rise = in.value() - mean;
    const double score =
        std::clamp(std::max(rise / rise_limit, in.value() / max_temp) / 2, 0.0, 1.0);
    const bool hot = rise > rise_limit || in.value() > max_temp;
    return sie::worker::Result::of(
        {.score = score,
         .anomaly = hot,
         .label = hot ? "overheating" : "normal",
         .detail = fmt::format("{:.1f} degC, {:+.1f} from the mean of {}", in.value(), rise,
                               history.size())});
  });
}
