// Pre-processing of the onnx runtime: the windows an invocation fetched from the state layer become
// one normalized model input row. Channel 0 is the triggering sensor and sets the timeline: its
// newest readings, ending with the trigger. Other channels are zero-order held onto that timeline
// (each takes the value of its newest reading at or before each timeline timestamp). A block
// reading (vibration) contributes its samples instead, for single-channel models.
#pragma once

#include <cstddef>
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
