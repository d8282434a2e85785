#include "exec/onnx/onnx_executor.h"

#include <charconv>
#include <cmath>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/log.h"
#include "exec/builtin/readings.h"
#include "exec/onnx/input_window.h"
#include "exec/onnx/model_binding.h"
#include "exec/onnx/model_info.h"
#include "exec/onnx/model_source.h"
#include "exec/onnx/opencv_backend.h"
#include "exec/onnx/scoring.h"
#include "exec/onnx/trial_run.h"
#include "sie/clock.h"
#include "sie/metrics.h"

namespace sie::onnx {
namespace {

constexpr std::string_view kRuntime = "onnx";

// A function's model, checked and specialized once and shared by all its instances.
struct Prepared {
  std::string path;      // where the model was found
  ModelInfo info;        // of the file as shipped
  std::string model;     // specialized: fixed shapes
  ModelInfo fixed_info;  // of `model`
  std::vector<std::int64_t> input_shape;
  InputPlan input;
  ScorePlan score;
};

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(std::move(item));
    start = end + 1;
  }
  return out;
}

Result<double> parseNumber(const std::string& text, std::string_view what) {
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
    return fail(Errc::kInvalidArgument, fmt::format("{} is not a number: '{}'", what, text));
  }
  return v;
}

Result<std::vector<double>> metadataNumbers(const ModelInfo& info, const std::string& key) {
  std::vector<double> out;
  auto it = info.metadata.find(key);
  if (it == info.metadata.end()) return out;
  for (const auto& item : splitList(it->second)) {
    out.push_back(SIE_TRY(parseNumber(item, "model metadata " + key)));
  }
  return out;
}

Result<std::optional<double>> metadataNumber(const ModelInfo& info, const std::string& key) {
  auto it = info.metadata.find(key);
  if (it == info.metadata.end()) return std::nullopt;
  return SIE_TRY(parseNumber(it->second, "model metadata " + key));
}

const InputBinding* findWindow(const FunctionSpec& spec, const std::string& name) {
  for (const auto& in : spec.inputs) {
    if (in.name == name && in.kind == InputBinding::Kind::kWindow) return &in;
  }
  return nullptr;
}

bool ownSensor(const InputBinding& b) { return b.sensor.empty() || b.sensor == "{sensor}"; }

// spec.model and the model's metadata -> the channel, normalization and score plans.
Status planBindings(const FunctionSpec& spec, const ModelInfo& info, Prepared& p) {
  const ModelBinding* given = modelBinding(spec);
  const ModelBinding binding = given != nullptr ? *given : ModelBinding{};
  std::vector<std::string> channels = binding.channels;
  if (channels.empty()) {
    for (const auto& in : spec.inputs) {
      if (in.kind == InputBinding::Kind::kWindow) channels.push_back(in.name);
    }
  }
  if (channels.empty()) {
    return fail(Errc::kInvalidArgument,
                "spec.inputs: an onnx function needs a window input for each model channel, the "
                "triggering sensor first, e.g. {name: x, kind: window, last: 29}");
  }
  const auto documented = splitList(
      info.metadata.contains("sie.channels") ? info.metadata.at("sie.channels") : std::string());
  if (!documented.empty() && documented.size() != channels.size()) {
    return fail(Errc::kInvalidArgument,
                fmt::format("the model takes {} channels ({}), the function binds {}",
                            documented.size(), info.metadata.at("sie.channels"), channels.size()));
  }

  std::size_t window = binding.window;
  if (window == 0) {
    auto meta = SIE_TRY(metadataNumber(info, "sie.window"));
    if (!meta || *meta < 1) {
      return fail(Errc::kInvalidArgument,
                  "spec.model.window is not set and the model has no sie.window metadata");
    }
    window = static_cast<std::size_t>(*meta);
  }
  const std::string mode_text =
      !binding.score.empty()
          ? binding.score
          : (info.metadata.contains("sie.score") ? info.metadata.at("sie.score") : "probability");
  p.score.mode = SIE_TRY(parseScoreMode(mode_text));
  p.input.residual = p.score.mode == ScoreMode::kResidual;
  p.input.window = window;
  p.input.period_ns = binding.resample.count();
  p.input.linear = binding.linear;

  std::vector<double> a = binding.mean, b = binding.std;
  bool minmax = !binding.min.empty();
  if (minmax) {
    a = binding.min;
    b = binding.max;
  } else if (a.empty()) {
    a = SIE_TRY(metadataNumbers(info, "sie.mean"));
    b = SIE_TRY(metadataNumbers(info, "sie.std"));
    if (a.empty()) {
      a = SIE_TRY(metadataNumbers(info, "sie.min"));
      b = SIE_TRY(metadataNumbers(info, "sie.max"));
      minmax = !a.empty();
    }
  }
  if (!a.empty() && (a.size() != channels.size() || b.size() != channels.size())) {
    return fail(Errc::kInvalidArgument, fmt::format("normalization has {} values for {} channels",
                                                    a.size(), channels.size()));
  }

  for (std::size_t c = 0; c < channels.size(); ++c) {
    const InputBinding* in = findWindow(spec, channels[c]);
    if (in == nullptr) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("spec.model.channels: '{}' is not a window input in spec.inputs",
                              channels[c]));
    }
    if (c == 0 && !ownSensor(*in)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("spec.model.channels: the first channel ('{}') must be the "
                              "triggering sensor's window (no sensor, or sensor: \"{{sensor}}\")",
                              channels[c]));
    }
    // Channel 0 adds the trigger to its history; other channels need the whole window (single
    // channel models may also be fed by blocks, which carry their samples themselves).
    const std::size_t need = c == 0 ? (p.input.residual ? window : window - 1) : window;
    if (in->last < need && channels.size() > 1) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("input '{}': last is {} but the model's window of {} needs {}",
                              in->name, in->last, window, need));
    }
    ChannelPlan plan{in->name, 0.0, 1.0, "", ""};
    if (binding.fit) {
      plan.fit_mean = in->name + ".mean";
      plan.fit_std = in->name + ".std";
    }
    if (!a.empty()) {
      const double scale = minmax ? b[c] - a[c] : b[c];
      if (!(scale > 0)) {
        return fail(Errc::kInvalidArgument,
                    fmt::format("normalization of channel '{}': {} must be > 0 (got {})", in->name,
                                minmax ? "max - min" : "std", scale));
      }
      plan.offset = a[c];
      plan.scale = scale;
    }
    p.input.channels.push_back(std::move(plan));
  }

  auto threshold = binding.threshold;
  if (!threshold) threshold = SIE_TRY(metadataNumber(info, "sie.threshold"));
  p.score.threshold = threshold.value_or(0.5);
  if (p.score.mode != ScoreMode::kProbability) {
    auto scale = binding.error_scale;
    if (!scale) scale = SIE_TRY(metadataNumber(info, "sie.error_scale"));
    if (!scale || !(*scale > 0)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("score {} needs spec.model.errorScale or sie.error_scale metadata "
                              "(the error that scores 0.5)",
                              scoreModeName(p.score.mode)));
    }
    p.score.error_scale = *scale;
  }
  p.score.labels = binding.labels;
  if (p.score.labels.empty() && info.metadata.contains("sie.labels")) {
    p.score.labels = splitList(info.metadata.at("sie.labels"));
  }
  return ok();
}

// The model's input must be [batch, C*window] or [batch, C, window]; dynamic sizes are fixed.
Status planShape(const ModelInfo& info, Prepared& p) {
  if (info.inputs.size() != 1) {
    return fail(Errc::kUnsupported,
                fmt::format("the model has {} inputs; the onnx runtime feeds exactly one",
                            info.inputs.size()));
  }
  const TensorInfo& in = info.inputs[0];
  if (in.type != "float32") {
    return fail(
        Errc::kUnsupported,
        fmt::format("model input '{}' is {}, the onnx runtime feeds float32", in.name, in.type));
  }
  const auto channels = static_cast<std::int64_t>(p.input.channels.size());
  const auto window = static_cast<std::int64_t>(p.input.window);
  std::vector<std::int64_t> want;
  if (in.shape.size() == 2) {
    want = {1, channels * window};
  } else if (in.shape.size() == 3) {
    want = {1, channels, window};
  } else {
    return fail(Errc::kUnsupported,
                fmt::format("model input '{}' has rank {}; the onnx runtime feeds [batch, C*L] or "
                            "[batch, C, L]",
                            in.name, in.shape.size()));
  }
  std::map<std::size_t, std::int64_t> fix;
  for (std::size_t d = 0; d < want.size(); ++d) {
    if (in.shape[d] == -1) {
      fix[d] = want[d];
    } else if (d > 0 && in.shape[d] != want[d]) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("model input '{}' dimension {} is {}, but {} channel(s) × window {} "
                              "need {}",
                              in.name, d, in.shape[d], channels, window, want[d]));
    }
  }
  p.input_shape = want;
  p.model = SIE_TRY(specializeInput(
      std::span(reinterpret_cast<const std::uint8_t*>(p.model.data()), p.model.size()), fix));
  return ok();
}

class OnnxInstance final : public FunctionInstance {
 public:
  OnnxInstance(std::shared_ptr<const Prepared> model, std::unique_ptr<InferenceSession> session,
               const std::string& function)
      : model_(std::move(model)),
        session_(std::move(session)),
        inferences_(metrics().counter("sie_onnx_inferences_total", "Model runs.",
                                      {{"function", function}})),
        warming_(metrics().counter("sie_onnx_not_scored_total",
                                   "Invocations answered without running the model.",
                                   {{"function", function}, {"reason", "warming-up"}})),
        invalid_(metrics().counter("sie_onnx_not_scored_total",
                                   "Invocations answered without running the model.",
                                   {{"function", function}, {"reason", "invalid-value"}})),
        latency_(metrics().histogram("sie_onnx_inference_seconds", "Model run time (one batch).",
                                     {{"function", function}})) {}

  Result<Output> invoke(const Invocation& call) override {
    return std::move(invokeBatch(std::span(&call, 1)).front());
  }

  // One model run for every call that has a full window; the others are answered without it.
  std::vector<Result<Output>> invokeBatch(std::span<const Invocation> calls) override {
    std::vector<Result<Output>> out(calls.size(), Output{});
    std::vector<std::size_t> ready;
    batch_.data.clear();
    targets_.clear();
    for (std::size_t i = 0; i < calls.size(); ++i) {
      if (auto answer = answerWithoutModel(calls[i])) {
        out[i] = std::move(*answer);
        continue;
      }
      batch_.data.insert(batch_.data.end(), row_.begin(), row_.end());
      targets_.insert(targets_.end(), target_.begin(), target_.end());
      ready.push_back(i);
    }
    if (ready.empty()) return out;
    batch_.shape = model_->input_shape;
    batch_.shape[0] = static_cast<std::int64_t>(ready.size());
    const std::int64_t begin = monotonicNs();
    auto outputs = session_->run(batch_);
    latency_.observe(static_cast<double>(monotonicNs() - begin) * 1e-9);
    inferences_.inc(ready.size());
    const std::size_t row = row_.size();
    const std::size_t channels = target_.size();
    const std::size_t per =
        outputs && !outputs->empty() ? outputs->front().data.size() / ready.size() : 0;
    for (std::size_t k = 0; k < ready.size(); ++k) {
      Result<Output>& result = out[ready[k]];
      if (!outputs) {
        result = tl::unexpected(outputs.error());
        continue;
      }
      const std::span<const float> values(outputs->front().data);
      auto decision =
          scoreRow(model_->score, std::span<const float>(batch_.data).subspan(k * row, row),
                   std::span<const float>(targets_).subspan(k * channels, channels),
                   values.subspan(k * per, per));
      if (!decision) {
        result = tl::unexpected(decision.error());
      } else {
        result = Output{std::move(*decision), {}, {}};
      }
    }
    return out;
  }

 private:
  // The answer for a call the model need not (or cannot) run on; nullopt when row_ and target_
  // hold its input.
  std::optional<Output> answerWithoutModel(const Invocation& call) {
    const Telemetry& r = call.reading;
    if (r.quality == Quality::kBad)
      return builtin::notScored(builtin::kBadQuality, "reading quality is bad");
    if (r.values.empty() || !builtin::allFinite(r.values)) {
      invalid_.inc();
      return builtin::notScored(builtin::kInvalidValue, "reading holds no value, NaN or infinity");
    }
    if (skipForHop(call)) return Output{};
    const Filled filled = fillInput(model_->input, call, row_, target_);
    if (filled.fill == Fill::kWarmingUp) {
      warming_.inc();
      return builtin::notScored(builtin::kWarmingUp, filled.why);
    }
    if (filled.fill == Fill::kInvalidValue) {
      invalid_.inc();
      return builtin::notScored(builtin::kInvalidValue, filled.why);
    }
    return std::nullopt;
  }

  // With a hop, the function decides on the first reading of each hop interval only; the
  // previous reading is the newest of the trigger's window, so no state is kept.
  bool skipForHop(const Invocation& call) const {
    const ModelBinding* binding = modelBinding(call.spec);
    if (binding == nullptr) return false;
    auto it = call.windows.find(model_->input.channels[0].input);
    if (it == call.windows.end() || it->second.empty()) return false;
    return inSameHop(binding->hop, it->second.back().ts_ns, call.reading.ts_ns);
  }

  std::shared_ptr<const Prepared> model_;
  std::unique_ptr<InferenceSession> session_;
  std::vector<float> row_, target_;  // one call's input row and residual targets
  Tensor batch_;                     // the rows of a batch
  std::vector<float> targets_;
  Counter& inferences_;
  Counter& warming_;
  Counter& invalid_;
  Histogram& latency_;
};

// Every field of the spec a Prepared was planned from.
std::string preparedKey(const FunctionSpec& spec) {
  std::string key = fmt::format("{}|{}", spec.id(), spec.handler);
  for (const auto& in : spec.inputs) {
    fmt::format_to(std::back_inserter(key), "|{}:{}:{}:{}", in.name, static_cast<int>(in.kind),
                   in.sensor, in.last);
  }
  if (const ModelBinding* binding = modelBinding(spec)) {
    const ModelBinding& m = *binding;
    fmt::format_to(std::back_inserter(key), "|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", m.fit,
                   fmt::join(m.channels, ","), m.window, m.hop.count(), m.resample.count(),
                   m.linear, fmt::join(m.mean, ","), fmt::join(m.std, ","), fmt::join(m.min, ","),
                   fmt::join(m.max, ","), m.score, m.threshold.value_or(NAN),
                   m.error_scale.value_or(NAN), fmt::join(m.labels, ","), spec.base_dir);
  }
  return key;
}

class OnnxExecutor final : public Executor {
 public:
  explicit OnnxExecutor(std::unique_ptr<InferenceBackend> backend) : backend_(std::move(backend)) {}

  [[nodiscard]] std::string_view name() const override { return kRuntime; }
  [[nodiscard]] const RuntimeSchema* schema() const override { return &modelSchema(); }

  Status validate(const FunctionSpec& spec) const override {
    return prepare(spec).transform([](const auto&) {});
  }

  [[nodiscard]] std::map<std::string, std::string> artifact(
      const FunctionSpec& spec) const override {
    std::shared_ptr<const Prepared> model;
    {
      std::lock_guard lock(mu_);
      auto it = prepared_.find(preparedKey(spec));
      if (it == prepared_.end()) return {};
      model = it->second;
    }
    const Prepared& p = *model;
    return {{"model", p.path},
            {"sha256", p.info.sha256},
            {"modelVersion", std::to_string(p.info.model_version)},
            {"size", std::to_string(p.info.size)}};
  }

  Result<std::unique_ptr<FunctionInstance>> instantiate(const FunctionSpec& spec) override {
    auto model = SIE_TRY(prepare(spec));
    auto session = backend_->load(
        std::span(reinterpret_cast<const std::uint8_t*>(model->model.data()), model->model.size()),
        model->fixed_info);
    if (!session) return fail(Errc::kUnsupported, session.error().message, spec.source_file);
    return std::make_unique<OnnxInstance>(std::move(model), std::move(*session), spec.id());
  }

 private:
  // Checked once per function spec; later calls (instances started later, on scale-up) share the
  // result, so every instance of a function version runs the model content it was deployed with,
  // whatever happens to the file afterwards.
  Result<std::shared_ptr<const Prepared>> prepare(const FunctionSpec& spec) const {
    auto located = [&spec](Error e) {
      if (e.where.empty()) e.where = spec.source_file;
      return tl::unexpected(std::move(e));
    };
    if (spec.runtime != kRuntime) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("spec.runtime is '{}', not '{}'", spec.runtime, kRuntime),
                  spec.source_file);
    }
    const std::string key = preparedKey(spec);
    {
      std::lock_guard lock(mu_);
      if (auto it = prepared_.find(key); it != prepared_.end()) return it->second;
    }
    auto file = findModel(spec);
    if (!file) return tl::unexpected(file.error());
    auto built = build(spec, *file);
    if (!built) {
      Error e = built.error();
      e.message = fmt::format("model {}: {}", file->path, e.message);
      return located(std::move(e));
    }
    std::lock_guard lock(mu_);
    return prepared_.emplace(key, std::move(*built)).first->second;
  }

  Result<std::shared_ptr<const Prepared>> build(const FunctionSpec& spec,
                                                const ModelFile& file) const {
    auto p = std::make_shared<Prepared>();
    p->path = file.path;
    p->info = SIE_TRY(inspectModel(file.bytes));
    SIE_CHECK(backend_->supports(p->info));
    SIE_CHECK(planBindings(spec, p->info, *p));
    p->model.assign(file.bytes.begin(), file.bytes.end());
    SIE_CHECK(planShape(p->info, *p));
    const std::span fixed(reinterpret_cast<const std::uint8_t*>(p->model.data()), p->model.size());
    p->fixed_info = SIE_TRY(inspectModel(fixed));
    auto outputs = SIE_TRY(trialRun(*backend_, fixed, p->fixed_info));
    const std::size_t row = p->input.channels.size() * p->input.window;
    const std::size_t want = expectedOutputs(p->score.mode, row, p->input.channels.size());
    const std::size_t got = outputs.empty() ? 0 : outputs.front().data.size();
    if (got == 0 || (want != 0 && got != want)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("score {} expects {} output values per event, the model returns {}",
                              scoreModeName(p->score.mode),
                              want == 0 ? std::string("1 or more") : std::to_string(want), got));
    }
    if (!p->score.labels.empty() && p->score.mode == ScoreMode::kProbability && got > 1 &&
        p->score.labels.size() != got) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{} labels for {} classes", p->score.labels.size(), got));
    }
    Log("fn", spec.id())
        .debug("model {} sha256 {} ({} bytes) ready", file.path, p->info.sha256, p->info.size);
    return std::shared_ptr<const Prepared>(std::move(p));
  }

  std::unique_ptr<InferenceBackend> backend_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::shared_ptr<const Prepared>> prepared_;
};

}  // namespace

std::shared_ptr<Executor> makeExecutor(std::unique_ptr<InferenceBackend> backend) {
  return std::make_shared<OnnxExecutor>(std::move(backend));
}

std::shared_ptr<Executor> makeExecutor() { return makeExecutor(makeOpenCvBackend()); }

}  // namespace sie::onnx
