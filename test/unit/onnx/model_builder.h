// Test helper: small ONNX models built in code (no Python needed to run the tests), plus the ways
// a model file goes wrong.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace sie::onnx::testing {

// y = op(x @ W + b) for input [batch, in] (batch dynamic unless fixed_batch > 0); `op` is
// "Sigmoid", "Log" or "" (none). W is row-major [in, out].
struct Dense {
  std::vector<float> weights;
  std::vector<float> bias;
  std::int64_t in = 0;
  std::int64_t out = 0;
  std::string op = "Sigmoid";
  std::int64_t fixed_batch = 0;
  std::map<std::string, std::string> metadata;
};

inline ::onnx::ModelProto denseModel(const Dense& d) {
  ::onnx::ModelProto m;
  m.set_ir_version(7);
  m.set_producer_name("sie-test");
  m.set_model_version(3);
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(11);
  for (const auto& [k, v] : d.metadata) {
    auto* e = m.add_metadata_props();
    e->set_key(k);
    e->set_value(v);
  }
  auto* g = m.mutable_graph();
  g->set_name("dense");
  auto tensorType = [](::onnx::ValueInfoProto* v, const std::string& name, std::int64_t batch,
                       std::int64_t width) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(::onnx::TensorProto::FLOAT);
    auto* d0 = t->mutable_shape()->add_dim();
    if (batch > 0)
      d0->set_dim_value(batch);
    else
      d0->set_dim_param("batch");
    t->mutable_shape()->add_dim()->set_dim_value(width);
  };
  tensorType(g->add_input(), "input", d.fixed_batch, d.in);
  tensorType(g->add_output(), "output", d.fixed_batch, d.out);
  auto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(::onnx::TensorProto::FLOAT);
  w->add_dims(d.in);
  w->add_dims(d.out);
  for (float v : d.weights) w->add_float_data(v);
  auto* b = g->add_initializer();
  b->set_name("b");
  b->set_data_type(::onnx::TensorProto::FLOAT);
  b->add_dims(d.out);
  for (float v : d.bias) b->add_float_data(v);
  auto* mm = g->add_node();
  mm->set_op_type("MatMul");
  mm->set_name("matmul");
  mm->add_input("input");
  mm->add_input("W");
  mm->add_output("xw");
  auto* add = g->add_node();
  add->set_op_type("Add");
  add->set_name("add");
  add->add_input("xw");
  add->add_input("b");
  add->add_output(d.op.empty() ? "output" : "logit");
  if (!d.op.empty()) {
    auto* act = g->add_node();
    act->set_op_type(d.op);
    act->set_name("activation");
    act->add_input("logit");
    act->add_output("output");
  }
  return m;
}

// y = Conv(x, W) for input [1, 1, length] and one filter of `kernel` taps (all 1): OpenCV works
// out the output's length when it imports the model.
inline ::onnx::ModelProto convModel(std::int64_t length, std::int64_t kernel) {
  ::onnx::ModelProto m;
  m.set_ir_version(7);
  m.set_producer_name("sie-test");
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(11);
  auto* g = m.mutable_graph();
  g->set_name("conv");
  auto shaped = [](::onnx::ValueInfoProto* v, const std::string& name, std::int64_t width) {
    v->set_name(name);
    auto* t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(::onnx::TensorProto::FLOAT);
    for (std::int64_t d : {std::int64_t{1}, std::int64_t{1}, width}) {
      t->mutable_shape()->add_dim()->set_dim_value(d);
    }
  };
  shaped(g->add_input(), "input", length);
  shaped(g->add_output(), "output", std::max<std::int64_t>(1, length - kernel + 1));
  auto* w = g->add_initializer();
  w->set_name("W");
  w->set_data_type(::onnx::TensorProto::FLOAT);
  for (std::int64_t d : {std::int64_t{1}, std::int64_t{1}, kernel}) w->add_dims(d);
  for (std::int64_t i = 0; i < kernel; ++i) w->add_float_data(1.0F);
  auto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv");
  conv->add_input("input");
  conv->add_input("W");
  conv->add_output("output");
  auto* taps = conv->add_attribute();
  taps->set_name("kernel_shape");
  taps->set_type(::onnx::AttributeProto::INTS);
  taps->add_ints(kernel);
  return m;
}

inline std::string bytesOf(const ::onnx::ModelProto& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

inline std::span<const std::uint8_t> span(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// A model that adds a node of the ai.onnx.ml domain (tree ensembles): valid ONNX, not runnable on
// the opencv backend.
inline ::onnx::ModelProto withMlNode(::onnx::ModelProto m) {
  auto* opset = m.add_opset_import();
  opset->set_domain("ai.onnx.ml");
  opset->set_version(3);
  auto* node = m.mutable_graph()->add_node();
  node->set_op_type("Normalizer");
  node->set_domain("ai.onnx.ml");
  node->set_name("ml_normalizer");
  node->add_input("input");
  node->add_output("unused");
  auto* attr = node->add_attribute();
  attr->set_name("norm");
  attr->set_type(::onnx::AttributeProto::STRING);
  attr->set_s("MAX");
  return m;
}

}  // namespace sie::onnx::testing
