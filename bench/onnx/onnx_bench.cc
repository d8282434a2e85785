// The inference backend on every shipped model (models/*.onnx), with the inputs saved at training
// time (models/<name>.ref.json):
//   BM_ColdStart      read the file, check and describe it, fix its shapes, load it, run once
//   BM_Inference      one event (p50 / p99 over the iterations as counters)
//   BM_Batch/B        one run on B events: events/s on one core
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "exec/onnx/model_info.h"
#include "exec/onnx/model_source.h"
#include "exec/onnx/opencv_backend.h"

namespace {

namespace fs = std::filesystem;
using sie::Tensor;

struct Shipped {
  std::string name;
  std::string path;
  std::vector<float> row;  // one reference input row
};

std::vector<Shipped> shippedModels() {
  std::vector<Shipped> out;
  for (const auto& entry : fs::directory_iterator(fs::path(SIE_SOURCE_DIR) / "models")) {
    if (entry.path().extension() != ".onnx") continue;
    const fs::path ref = entry.path().parent_path() / (entry.path().stem().string() + ".ref.json");
    if (!fs::exists(ref)) {
      std::fprintf(stderr, "skipping %s: no reference inputs (%s)\n", entry.path().c_str(), ref.c_str());
      continue;
    }
    std::ifstream in(ref);
    const auto json = nlohmann::json::parse(in);
    out.push_back({entry.path().stem().string(), entry.path().string(),
                   json.at("inputs").at(0).get<std::vector<float>>()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::unique_ptr<sie::InferenceSession> load(sie::InferenceBackend& backend, const std::string& path,
                                            std::int64_t batch) {
  auto file = sie::onnx::readModelFile(path);
  auto fixed = sie::onnx::specializeInput(file->bytes, {{0, batch}});
  const std::span bytes(reinterpret_cast<const std::uint8_t*>(fixed->data()), fixed->size());
  auto info = sie::onnx::inspectModel(bytes);
  return std::move(*backend.load(bytes, *info));
}

Tensor rows(const Shipped& m, std::size_t n) {
  Tensor t;
  t.shape = {static_cast<std::int64_t>(n), static_cast<std::int64_t>(m.row.size())};
  for (std::size_t i = 0; i < n; ++i) t.data.insert(t.data.end(), m.row.begin(), m.row.end());
  return t;
}

void coldStart(benchmark::State& state, const Shipped& m) {
  auto backend = sie::onnx::makeOpenCvBackend();
  const Tensor input = rows(m, 1);
  for (auto _ : state) {
    auto file = sie::onnx::readModelFile(m.path);
    auto info = sie::onnx::inspectModel(file->bytes);
    if (!info || !backend->supports(*info)) state.SkipWithError("model refused");
    auto fixed = sie::onnx::specializeInput(file->bytes, {{0, 1}});
    const std::span bytes(reinterpret_cast<const std::uint8_t*>(fixed->data()), fixed->size());
    auto fixed_info = sie::onnx::inspectModel(bytes);
    auto session = backend->load(bytes, *fixed_info);
    auto out = (*session)->run(input);
    benchmark::DoNotOptimize(out);
  }
}

void inference(benchmark::State& state, const Shipped& m) {
  auto backend = sie::onnx::makeOpenCvBackend();
  auto session = load(*backend, m.path, 1);
  const Tensor input = rows(m, 1);
  std::vector<double> us;
  for (auto _ : state) {
    const auto begin = std::chrono::steady_clock::now();
    auto out = session->run(input);
    benchmark::DoNotOptimize(out);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - begin).count());
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[us.size() * 99 / 100];
}

void batch(benchmark::State& state, const Shipped& m) {
  const auto n = static_cast<std::size_t>(state.range(0));
  auto backend = sie::onnx::makeOpenCvBackend();
  auto session = load(*backend, m.path, 1);  // as the runtime does: batch 1, fed B rows
  const Tensor input = rows(m, n);
  for (auto _ : state) {
    auto out = session->run(input);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

}  // namespace

int main(int argc, char** argv) {
  static const auto models = shippedModels();
  for (const auto& m : models) {
    benchmark::RegisterBenchmark(("BM_ColdStart/" + m.name).c_str(), coldStart, m)->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("BM_Inference/" + m.name).c_str(), inference, m)->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("BM_Batch/" + m.name).c_str(), batch, m)
        ->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
