#include <fmt/format.h>

#include "exec/onnx/model_binding.h"

namespace sie::onnx {
namespace {

using Type = ConfigKey::Type;

constexpr ConfigKey kModelKeys[] = {
    {"channels", Type::kStringList, "",
     "window inputs in the model's channel order (default: all)"},
    ConfigKey{"window", Type::kInt, "",
              "readings (block samples) per channel (default: sie.window)"}
        .within(1, 100000),
    {"hop", Type::kDuration, "0", "decide at most once per hop of the trigger's time"},
    {"resample", Type::kDuration, "0",
     "one window point per period, ending at the trigger (0: the trigger's own readings)"},
    ConfigKey{"interpolate", Type::kString, "hold",
              "resampled points: hold (newest reading at or before) | linear (between the two "
              "around)"}
        .oneOf("hold|linear"),
    {"mean", Type::kNumberList, "", "per channel, with std: x' = (x - mean) / std"},
    {"std", Type::kNumberList, "", "per channel standard deviation (> 0)"},
    {"min", Type::kNumberList, "", "per channel, with max: x' = (x - min) / (max - min)"},
    {"max", Type::kNumberList, "", "per channel maximum (> min)"},
    ConfigKey{"normalize", Type::kString, "",
              "fit: per-asset mean/std from the KV store (fit/<sensor>/mean|std)"}
        .oneOf("fit"),
    ConfigKey{"score", Type::kString, "", "how the output becomes a score (default: sie.score)"}
        .oneOf("probability|reconstruction|residual"),
    {"threshold", Type::kDouble, "", "anomaly when score >= threshold (default: sie.threshold)"},
    ConfigKey{"errorScale", Type::kDouble, "", "reconstruction/residual error that scores 0.5"}
        .above(0),
    {"labels", Type::kStringList, "", "class names of a probabilities output, normal first"},
};

// normalize: fit reads each window's statistics through two kv inputs.
void addFitInputs(FunctionSpec& spec) {
  std::vector<InputBinding> added;
  for (const auto& in : spec.inputs) {
    if (in.kind != InputBinding::Kind::kWindow) continue;
    const std::string sensor = in.sensor.empty() ? "{sensor}" : in.sensor;
    for (const char* stat : {"mean", "std"}) {
      InputBinding kv;
      kv.name = in.name + "." + stat;
      kv.kind = InputBinding::Kind::kKv;
      kv.key = "fit/" + sensor + "/" + stat;
      added.push_back(std::move(kv));
    }
  }
  spec.inputs.insert(spec.inputs.end(), added.begin(), added.end());
}

Status applyModel(const ConfigValues& v, FunctionSpec& spec) {
  ModelBinding m;
  m.channels = v.list("channels");
  if (v.has("window")) m.window = static_cast<std::size_t>(v.integer("window"));
  m.hop = v.duration("hop");
  m.resample = v.duration("resample");
  m.linear = v.str("interpolate") == "linear";
  if (m.linear && m.resample.count() == 0) {
    return v.invalid("spec.model.interpolate: linear needs spec.model.resample (a period)");
  }
  m.mean = v.numbers("mean");
  m.std = v.numbers("std");
  m.min = v.numbers("min");
  m.max = v.numbers("max");
  if (m.mean.size() != m.std.size()) {
    return v.invalid(
        fmt::format("spec.model.mean and std need one number per channel each (got {} and {})",
                    m.mean.size(), m.std.size()));
  }
  if (m.min.size() != m.max.size()) {
    return v.invalid(
        fmt::format("spec.model.min and max need one number per channel each (got {} and {})",
                    m.min.size(), m.max.size()));
  }
  if (!m.mean.empty() && !m.min.empty()) {
    return v.invalid("spec.model: give mean/std or min/max, not both");
  }
  m.fit = v.str("normalize") == "fit";
  m.score = v.str("score");
  if (v.has("threshold")) m.threshold = v.number("threshold");
  if (v.has("errorScale")) m.error_scale = v.number("errorScale");
  m.labels = v.list("labels");
  const bool fit = m.fit;
  spec.settings = std::move(m);
  if (fit) addFitInputs(spec);
  return ok();
}

}  // namespace

const RuntimeSchema& modelSchema() {
  static const RuntimeSchema kSchema{"model", kModelKeys, false, applyModel};
  return kSchema;
}

}  // namespace sie::onnx
