// Every model shipped in models/ against the reference outputs saved when it was trained
// (models/<name>.ref.json): the C++ runtime computes what PyTorch computed.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exec/onnx/model_info.h"
#include "exec/onnx/model_source.h"
#include "exec/onnx/opencv_backend.h"
#include "exec/onnx/scoring.h"

namespace sie::onnx {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> referenceFiles() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(fs::path(SIE_SOURCE_DIR) / "models")) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 9 && name.ends_with(".ref.json")) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(ShippedModelsTest, EveryModelHasAReferenceAndAModelCard) {
  const fs::path dir = fs::path(SIE_SOURCE_DIR) / "models";
  std::size_t models = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".onnx") continue;
    ++models;
    const std::string stem = entry.path().stem().string();
    EXPECT_TRUE(fs::exists(dir / (stem + ".ref.json"))) << stem;
    EXPECT_TRUE(fs::exists(dir / (stem + ".md"))) << stem;
  }
  EXPECT_GE(models, 1u);
}

TEST(ShippedModelsTest, OutputsAndScoresMatchTheTrainingReferences) {
  const auto refs = referenceFiles();
  ASSERT_FALSE(refs.empty());
  auto backend = makeOpenCvBackend();
  for (const auto& path : refs) {
    SCOPED_TRACE(path.filename().string());
    std::ifstream in(path);
    const auto ref = nlohmann::json::parse(in);
    auto file = readModelFile((path.parent_path() / ref.at("model").get<std::string>()).string());
    ASSERT_TRUE(file) << file.error().str();
    auto info = inspectModel(file->bytes);
    ASSERT_TRUE(info) << info.error().str();
    ASSERT_TRUE(backend->supports(*info));

    const auto rows = ref.at("inputs").get<std::vector<std::vector<float>>>();
    const auto expected = ref.at("outputs").get<std::vector<std::vector<float>>>();
    const auto scores = ref.at("scores").get<std::vector<double>>();
    const double tolerance = ref.value("tolerance", 1e-4);
    ASSERT_EQ(rows.size(), expected.size());
    ASSERT_EQ(rows.size(), scores.size());
    auto fixed = specializeInput(file->bytes, {{0, 1}});
    ASSERT_TRUE(fixed) << fixed.error().str();
    const std::span model(reinterpret_cast<const std::uint8_t*>(fixed->data()), fixed->size());
    auto fixed_info = inspectModel(model);
    ASSERT_TRUE(fixed_info);
    auto session = backend->load(model, *fixed_info);
    ASSERT_TRUE(session) << session.error().str();

    ScorePlan plan;
    plan.mode = *parseScoreMode(info->metadata.at("sie.score"));
    plan.threshold = std::stod(info->metadata.at("sie.threshold"));
    if (info->metadata.contains("sie.error_scale")) {
      plan.error_scale = std::stod(info->metadata.at("sie.error_scale"));
    }
    const std::size_t channels =
        static_cast<std::size_t>(std::count(info->metadata.at("sie.channels").begin(),
                                            info->metadata.at("sie.channels").end(), ',') + 1);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      Tensor input;
      input.shape = fixed_info->inputs[0].shape;
      input.data = rows[i];
      auto out = (*session)->run(input);
      ASSERT_TRUE(out) << out.error().str();
      ASSERT_EQ(out->front().data.size(), expected[i].size()) << "row " << i;
      for (std::size_t j = 0; j < expected[i].size(); ++j) {
        EXPECT_NEAR(out->front().data[j], expected[i][j], tolerance) << "row " << i << " value " << j;
      }
      // Residual targets are the last `channels` values the reference appends to each row.
      std::span<const float> row(input.data);
      std::span<const float> target;
      if (plan.mode == ScoreMode::kResidual && ref.contains("targets")) {
        const auto& t = ref.at("targets").at(i);
        static thread_local std::vector<float> targets;
        targets = t.get<std::vector<float>>();
        target = targets;
        ASSERT_EQ(targets.size(), channels);
      }
      auto decision = scoreRow(plan, row, target, out->front().data);
      ASSERT_TRUE(decision) << decision.error().str();
      EXPECT_NEAR(decision->score, scores[i], 1e-3) << "row " << i;
    }
  }
}

}  // namespace
}  // namespace sie::onnx
