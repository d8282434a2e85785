#include "exec/onnx/input_window.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <utility>

#include <fmt/format.h>

namespace sie::onnx {
namespace {

// A reading usable as history: not bad, one finite value at least (a block counts as its mean).
bool usable(const Sample& s) { return s.quality != Quality::kBad && !s.values.empty(); }

double meanOf(std::span<const double> values) {
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

struct Scaling {
  double offset;
  double scale;
};

float normalized(double x, const Scaling& c) {
  return static_cast<float>((x - c.offset) / c.scale);
}

// The channel's normalization for this call: fitted statistics when the call has them.
Scaling scalingOf(const ChannelPlan& c, const Invocation& call) {
  if (c.fit_mean.empty()) return {c.offset, c.scale};
  auto mean = call.values.find(c.fit_mean);
  auto std = call.values.find(c.fit_std);
  if (mean == call.values.end() || std == call.values.end()) return {c.offset, c.scale};
  return {mean->second, std::max(std->second, kMinFitStd)};
}

const std::vector<Sample>* windowOf(const Invocation& call, const std::string& name) {
  auto it = call.windows.find(name);
  return it == call.windows.end() ? nullptr : &it->second;
}

// One block sensor: the newest samples of its blocks, the trigger's last.
Filled fillBlock(const InputPlan& plan, const Invocation& call, const std::vector<Sample>& history,
                 std::vector<float>& row, std::vector<float>& target) {
  const std::size_t need = plan.window + (plan.residual ? 1 : 0);
  std::vector<double> samples;
  for (auto it = history.rbegin();
       it != history.rend() && samples.size() + call.reading.values.size() < need; ++it) {
    if (!usable(*it)) break;
    samples.insert(samples.begin(), it->values.begin(), it->values.end());
  }
  samples.insert(samples.end(), call.reading.values.begin(), call.reading.values.end());
  if (samples.size() < need) {
    return {Fill::kWarmingUp, fmt::format("{} of {} samples so far", samples.size(), need)};
  }
  const auto begin = samples.end() - static_cast<std::ptrdiff_t>(need);
  const Scaling c = scalingOf(plan.channels[0], call);
  for (std::size_t i = 0; i < plan.window; ++i) {
    const double v = begin[static_cast<std::ptrdiff_t>(i)];
    if (!std::isfinite(v)) return {Fill::kInvalidValue, "a window sample is NaN or infinite"};
    row[i] = normalized(v, c);
  }
  if (plan.residual) target[0] = normalized(samples.back(), c);
  return {};
}

// One channel's usable readings, oldest first, sampled at increasing times.
class Resampler {
 public:
  Resampler(std::vector<const Sample*> readings, bool linear)
      : readings_(std::move(readings)), linear_(linear) {}

  // The value at `ts`; nullopt while the channel has no reading at or before it.
  std::optional<double> at(std::int64_t ts) {
    while (next_ < readings_.size() && readings_[next_]->ts_ns <= ts) ++next_;
    if (next_ == 0) return std::nullopt;
    const Sample& held = *readings_[next_ - 1];
    const double v = meanOf(held.view());
    if (!linear_ || next_ == readings_.size() || held.ts_ns == ts) return v;
    const Sample& after = *readings_[next_];
    const double fraction =
        static_cast<double>(ts - held.ts_ns) / static_cast<double>(after.ts_ns - held.ts_ns);
    return v + (meanOf(after.view()) - v) * fraction;
  }

 private:
  std::vector<const Sample*> readings_;
  bool linear_;
  std::size_t next_ = 0;
};

std::vector<const Sample*> usableOf(const std::vector<Sample>& series) {
  std::vector<const Sample*> out;
  out.reserve(series.size() + 1);
  for (const Sample& s : series) {
    if (usable(s)) out.push_back(&s);
  }
  return out;
}

// spec.model.resample: every channel sampled at `window` points `period_ns` apart, the last at
// the trigger (residual: the points before it, and the trigger's time for the target).
Filled fillResampled(const InputPlan& plan, const Invocation& call,
                     const std::vector<Sample>& history, std::vector<float>& row,
                     std::vector<float>& target) {
  const std::size_t length = plan.window;
  const std::int64_t last = call.reading.ts_ns - (plan.residual ? plan.period_ns : 0);
  const std::int64_t first = last - static_cast<std::int64_t>(length - 1) * plan.period_ns;
  const Sample trigger = Sample::of(call.reading);
  for (std::size_t c = 0; c < plan.channels.size(); ++c) {
    const ChannelPlan& channel = plan.channels[c];
    std::vector<const Sample*> readings;
    if (c == 0) {
      readings = usableOf(history);
      readings.push_back(&trigger);
    } else {
      const std::vector<Sample>* series = windowOf(call, channel.input);
      if (series == nullptr)
        return {Fill::kWarmingUp, fmt::format("no window '{}'", channel.input)};
      readings = usableOf(*series);
    }
    Resampler resampler(std::move(readings), plan.linear);
    const Scaling scaling = scalingOf(channel, call);
    float* out = row.data() + c * length;
    for (std::size_t i = 0; i < length; ++i) {
      const auto v = resampler.at(first + static_cast<std::int64_t>(i) * plan.period_ns);
      if (!v) {
        return {Fill::kWarmingUp,
                fmt::format("'{}' has no reading {:.3g} s before the trigger, where the "
                            "resampled window starts (fetch more with spec.inputs[].last)",
                            channel.input, static_cast<double>(call.reading.ts_ns - first) / 1e9)};
      }
      if (!std::isfinite(*v)) return {Fill::kInvalidValue, "a window value is NaN or infinite"};
      out[i] = normalized(*v, scaling);
    }
    if (plan.residual) {
      const auto v = resampler.at(call.reading.ts_ns);
      if (!v || !std::isfinite(*v)) {
        return {Fill::kInvalidValue, "the trigger value is NaN or infinite"};
      }
      target[c] = normalized(*v, scaling);
    }
  }
  return {};
}

}  // namespace

Filled fillInput(const InputPlan& plan, const Invocation& call, std::vector<float>& row,
                 std::vector<float>& target) {
  const std::size_t channels = plan.channels.size();
  const std::size_t length = plan.window;
  row.assign(channels * length, 0.0F);
  target.assign(plan.residual ? channels : 0, 0.0F);

  const std::vector<Sample>* own = windowOf(call, plan.channels[0].input);
  static const std::vector<Sample> kNone;
  const std::vector<Sample>& history = own != nullptr ? *own : kNone;
  if (plan.period_ns > 0) return fillResampled(plan, call, history, row, target);
  if (call.reading.values.size() > 1 && channels == 1) {
    return fillBlock(plan, call, history, row, target);
  }

  // The timeline: the trigger's newest usable readings, then (not for residual) the trigger.
  const std::size_t from_history = plan.residual ? length : length - 1;
  std::vector<const Sample*> timeline;
  timeline.reserve(length + 1);
  for (auto it = history.rbegin(); it != history.rend() && timeline.size() < from_history; ++it) {
    if (usable(*it)) timeline.push_back(&*it);
  }
  if (timeline.size() < from_history) {
    return {Fill::kWarmingUp, fmt::format("{} of {} readings of '{}' so far", timeline.size(),
                                          from_history, plan.channels[0].input)};
  }
  std::reverse(timeline.begin(), timeline.end());
  const Sample trigger = Sample::of(call.reading);
  if (!plan.residual) timeline.push_back(&trigger);

  for (std::size_t c = 0; c < channels; ++c) {
    const ChannelPlan& channel = plan.channels[c];
    const Scaling plan_c = scalingOf(channel, call);
    float* out = row.data() + c * length;
    if (c == 0) {
      for (std::size_t i = 0; i < length; ++i) {
        const double v = meanOf(timeline[i]->view());
        if (!std::isfinite(v)) return {Fill::kInvalidValue, "a window value is NaN or infinite"};
        out[i] = normalized(v, plan_c);
      }
      if (plan.residual) target[0] = normalized(meanOf(call.reading.values), plan_c);
      continue;
    }
    const std::vector<Sample>* series = windowOf(call, channel.input);
    if (series == nullptr) return {Fill::kWarmingUp, fmt::format("no window '{}'", channel.input)};
    // Walk both timelines forward: `next` is the first reading after the current timestamp.
    std::size_t next = 0;
    const Sample* held = nullptr;
    auto holdUntil = [&](std::int64_t ts) {
      while (next < series->size() && (*series)[next].ts_ns <= ts) {
        if (usable((*series)[next])) held = &(*series)[next];
        ++next;
      }
    };
    for (std::size_t i = 0; i < length; ++i) {
      holdUntil(timeline[i]->ts_ns);
      if (held == nullptr) {
        return {Fill::kWarmingUp,
                fmt::format("'{}' has no reading at or before the window's start", channel.input)};
      }
      const double v = meanOf(held->view());
      if (!std::isfinite(v)) return {Fill::kInvalidValue, "a window value is NaN or infinite"};
      out[i] = normalized(v, plan_c);
    }
    if (plan.residual) {
      holdUntil(call.reading.ts_ns);
      target[c] = normalized(meanOf(held->view()), plan_c);
    }
  }
  for (float v : target) {
    if (!std::isfinite(v)) return {Fill::kInvalidValue, "the trigger value is NaN or infinite"};
  }
  return {};
}

}  // namespace sie::onnx
