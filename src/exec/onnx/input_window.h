// Pre-processing of the onnx runtime: the windows an invocation fetched from the state layer become
// one normalized model input row. Channel 0 is the triggering sensor and sets the timeline: its
// newest readings, ending with the trigger. Other channels are zero-order held onto that timeline
// (each takes the value of its newest reading at or before each timeline timestamp). A block
// reading (vibration) contributes its samples instead, for single-channel models.
// With a resample period the timeline is regular instead — one point per period, the last at the
// trigger — and every channel, the trigger's too, is held or linearly interpolated onto it, so a
// model trained at a fixed rate sees that rate whatever the sensors' own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "sie/function.h"

namespace sie::onnx {

struct ChannelPlan {
  std::string input;    // the window binding's name
  double offset = 0.0;  // x' = (x - offset) / scale
  double scale = 1.0;
  // spec.model.normalize: fit: the kv inputs "<input>.mean" and "<input>.std", when the
  // invocation has both, replace offset and scale.
  std::string fit_mean, fit_std;
};

// The smallest standard deviation a fit may give (a constant signal).
inline constexpr double kMinFitStd = 1e-6;

struct InputPlan {
  std::vector<ChannelPlan> channels;  // channels[0] is the triggering sensor's window
  std::size_t window = 0;             // values per channel
  // Forecast models: the row holds the `window` readings before the trigger, and `target` gets
  // the trigger's normalized value of each channel.
  bool residual = false;
  std::int64_t period_ns = 0;  // > 0: the regular timeline (spec.model.resample)
  bool linear = false;         // resampled points between two readings: interpolate, not hold
};

enum class Fill {
  kReady,
  kWarmingUp,     // not enough history yet (cold state); `why` says what is missing
  kInvalidValue,  // a value the window needs is NaN or infinite
};

struct Filled {
  Fill fill = Fill::kReady;
  std::string why;
};

// Fills `row` (channels × window, channel-major) and, for residual plans, `target` (one value per
// channel). Reuses the vectors' capacity.
Filled fillInput(const InputPlan& plan, const Invocation& call, std::vector<float>& row,
                 std::vector<float>& target);

}  // namespace sie::onnx
