// Model files: description, validation of corrupt, truncated and hostile files, specialization.
#include "exec/onnx/model_info.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exec/onnx/opencv_backend.h"
#include "exec/onnx/trial_run.h"
#include "model_builder.h"

namespace sie::onnx {
namespace {

using testing::bytesOf;
using testing::convModel;
using testing::Dense;
using testing::denseModel;
using ::testing::HasSubstr;
using testing::span;

Dense smallDense() {
  Dense d;
  d.in = 4;
  d.out = 1;
  d.weights = {0.5F, -0.5F, 1.0F, 2.0F};
  d.bias = {0.1F};
  d.metadata = {{"sie.window", "4"}, {"sie.score", "probability"}};
  return d;
}

TEST(ModelInfoTest, DescribesInputsOutputsOperatorsAndMetadata) {
  const std::string bytes = bytesOf(denseModel(smallDense()));
  auto info = inspectModel(span(bytes));
  ASSERT_TRUE(info) << info.error().str();
  EXPECT_EQ(info->sha256, sha256Hex(span(bytes)));
  EXPECT_EQ(info->sha256.size(), 64u);
  EXPECT_EQ(info->size, bytes.size());
  EXPECT_EQ(info->model_version, 3);
  EXPECT_EQ(info->producer, "sie-test");
  EXPECT_EQ(info->opsets.at(""), 11);
  ASSERT_EQ(info->inputs.size(), 1u);  // initializers are not inputs
  EXPECT_EQ(info->inputs[0].name, "input");
  EXPECT_EQ(info->inputs[0].type, "float32");
  EXPECT_EQ(info->inputs[0].shape, (std::vector<std::int64_t>{-1, 4}));
  EXPECT_EQ(info->inputs[0].dim_names[0], "batch");
  ASSERT_EQ(info->outputs.size(), 1u);
  EXPECT_EQ(info->outputs[0].shape, (std::vector<std::int64_t>{-1, 1}));
  EXPECT_EQ(info->operators.at("MatMul"), 1);
  EXPECT_EQ(info->operators.at("Sigmoid"), 1);
  EXPECT_EQ(info->nodes, 3u);
  EXPECT_EQ(info->parameters, 5u);
  EXPECT_EQ(info->metadata.at("sie.window"), "4");
}

TEST(ModelInfoTest, Sha256IsTheFilesDigest) {
  const std::string abc = "abc";
  EXPECT_EQ(sha256Hex(span(abc)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ModelInfoTest, RejectsEmptyGarbageAndTruncatedFiles) {
  const std::string empty;
  EXPECT_THAT(inspectModel(span(empty)).error().message, HasSubstr("empty"));
  const std::string garbage = "this is not a model, just text\n";
  EXPECT_THAT(inspectModel(span(garbage)).error().message, HasSubstr("not an ONNX model"));
  const std::string bytes = bytesOf(denseModel(smallDense()));
  // Every prefix is an error or a valid model, never a crash (the ASan build runs this too).
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    auto info = inspectModel(span(bytes.substr(0, n)));
    if (!info) {
      EXPECT_FALSE(info.error().message.empty());
    }
  }
}

TEST(ModelInfoTest, RejectsAnInitializerWhoseDataDoesNotMatchItsDims) {
  auto m = denseModel(smallDense());
  m.mutable_graph()->mutable_initializer(0)->set_dims(0, 1000);
  const std::string bytes = bytesOf(m);
  auto info = inspectModel(span(bytes));
  ASSERT_FALSE(info);
  EXPECT_THAT(info.error().message, HasSubstr("initializer 'W'"));
  EXPECT_THAT(info.error().message, HasSubstr("1000 elements declared, 4 values stored"));
}

TEST(ModelInfoTest, RejectsRawDataOfTheWrongSize) {
  auto m = denseModel(smallDense());
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_raw_data(std::string(7, '\0'));  // 4 floats need 16 bytes
  const std::string bytes = bytesOf(m);
  auto info = inspectModel(span(bytes));
  ASSERT_FALSE(info);
  EXPECT_THAT(info.error().message, HasSubstr("4 elements declared, 7 bytes of data"));
}

TEST(ModelInfoTest, RejectsExternalWeights) {
  auto m = denseModel(smallDense());
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(::onnx::TensorProto::EXTERNAL);
  auto* loc = w->add_external_data();
  loc->set_key("location");
  loc->set_value("/etc/passwd");
  const std::string bytes = bytesOf(m);
  auto info = inspectModel(span(bytes));
  ASSERT_FALSE(info);
  EXPECT_THAT(info.error().message, HasSubstr("external"));
}

TEST(ModelInfoTest, RejectsAGraphTheCheckerRefuses) {
  auto m = denseModel(smallDense());
  m.mutable_graph()->mutable_node(1)->set_input(0, "no_such_tensor");
  const std::string bytes = bytesOf(m);
  auto info = inspectModel(span(bytes));
  ASSERT_FALSE(info);
  EXPECT_THAT(info.error().message, HasSubstr("invalid ONNX model"));
}

TEST(ModelInfoTest, SpecializeFixesDynamicDimsOfTheInputAndTheNamedOutputDims) {
  const std::string bytes = bytesOf(denseModel(smallDense()));
  auto fixed = specializeInput(span(bytes), {{0, 8}});
  ASSERT_TRUE(fixed) << fixed.error().str();
  auto info = inspectModel(span(*fixed));
  ASSERT_TRUE(info) << info.error().str();
  EXPECT_EQ(info->inputs[0].shape, (std::vector<std::int64_t>{8, 4}));
  EXPECT_EQ(info->outputs[0].shape, (std::vector<std::int64_t>{8, 1}));
  auto missing = specializeInput(span(bytes), {});
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error().message, HasSubstr("dimension 0 is dynamic"));
}

}  // namespace
}  // namespace sie::onnx

namespace sie::onnx {
namespace {

// Found by fuzz_model: a Constant node whose tensor declares 21 floats and holds 64 bytes made
// OpenCV's importer read past the buffer.
TEST(ModelInfoTest, RejectsANodeAttributeTensorWhoseDataDoesNotMatchItsDims) {
  auto m = testing::denseModel(smallDense());
  auto* node = m.mutable_graph()->add_node();
  node->set_op_type("Constant");
  node->set_name("bad_constant");
  node->add_output("c");
  auto* attr = node->add_attribute();
  attr->set_name("value");
  attr->set_type(::onnx::AttributeProto::TENSOR);
  auto* t = attr->mutable_t();
  t->set_data_type(::onnx::TensorProto::FLOAT);
  t->add_dims(21);
  t->set_raw_data(std::string(64, '\0'));
  const std::string bytes = testing::bytesOf(m);
  auto info = inspectModel(testing::span(bytes));
  ASSERT_FALSE(info);
  EXPECT_THAT(info.error().message,
              ::testing::HasSubstr("node 'bad_constant' (Constant) attribute 'value'"));
  EXPECT_THAT(info.error().message, ::testing::HasSubstr("21 elements declared, 64 bytes of data"));
}

TEST(ModelInfoTest, AConvolutionOfAOneDimensionalInputIsRefusedAtTheTrialRun) {
  // OpenCV's importer throws std::length_error for it, not the cv::Exception the backend caught:
  // the exception ended the node at deploy time (fuzz_model).
  ::onnx::ModelProto m = convModel(9, 7);
  auto* shape = m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type();
  shape->mutable_shape()->clear_dim();
  shape->mutable_shape()->add_dim()->set_dim_value(1);
  const std::string bytes = bytesOf(m);
  auto info = inspectModel(span(bytes));
  ASSERT_TRUE(info) << info.error().str();
  auto backend = makeOpenCvBackend();
  auto run = trialRun(*backend, span(bytes), *info);
  ASSERT_FALSE(run);
  EXPECT_THAT(run.error().message, HasSubstr("cannot import the model"));
}

}  // namespace
}  // namespace sie::onnx
