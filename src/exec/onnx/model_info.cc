#include "exec/onnx/model_info.h"

#include <array>
#include <limits>
#include <memory>

#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <openssl/evp.h>

namespace sie::onnx {
namespace {

using ::onnx::ModelProto;
using ::onnx::TensorProto;
using ::onnx::ValueInfoProto;

std::string typeName(int type) {
  switch (type) {
    case TensorProto::FLOAT:
      return "float32";
    case TensorProto::DOUBLE:
      return "float64";
    case TensorProto::FLOAT16:
      return "float16";
    case TensorProto::BFLOAT16:
      return "bfloat16";
    case TensorProto::INT8:
      return "int8";
    case TensorProto::UINT8:
      return "uint8";
    case TensorProto::INT16:
      return "int16";
    case TensorProto::UINT16:
      return "uint16";
    case TensorProto::INT32:
      return "int32";
    case TensorProto::UINT32:
      return "uint32";
    case TensorProto::INT64:
      return "int64";
    case TensorProto::UINT64:
      return "uint64";
    case TensorProto::BOOL:
      return "bool";
    case TensorProto::STRING:
      return "string";
    default:
      return fmt::format("type {}", type);
  }
}

// Bytes per element of a fixed-size type; 0 for strings and unknown types.
std::size_t elementBytes(int type) {
  switch (type) {
    case TensorProto::BOOL:
    case TensorProto::INT8:
    case TensorProto::UINT8:
      return 1;
    case TensorProto::FLOAT16:
    case TensorProto::BFLOAT16:
    case TensorProto::INT16:
    case TensorProto::UINT16:
      return 2;
    case TensorProto::FLOAT:
    case TensorProto::INT32:
    case TensorProto::UINT32:
      return 4;
    case TensorProto::DOUBLE:
    case TensorProto::INT64:
    case TensorProto::UINT64:
    case TensorProto::COMPLEX64:
      return 8;
    case TensorProto::COMPLEX128:
      return 16;
    default:
      return 0;
  }
}

// The number of values a typed repeated field holds for a tensor of `type`.
std::size_t typedValues(const TensorProto& t) {
  switch (t.data_type()) {
    case TensorProto::FLOAT:
    case TensorProto::COMPLEX64:
      return static_cast<std::size_t>(t.float_data_size());
    case TensorProto::DOUBLE:
    case TensorProto::COMPLEX128:
      return static_cast<std::size_t>(t.double_data_size());
    case TensorProto::INT64:
      return static_cast<std::size_t>(t.int64_data_size());
    case TensorProto::UINT32:
    case TensorProto::UINT64:
      return static_cast<std::size_t>(t.uint64_data_size());
    case TensorProto::STRING:
      return static_cast<std::size_t>(t.string_data_size());
    default:
      return static_cast<std::size_t>(t.int32_data_size());
  }
}

// A tensor's element count, or an error when its dims or data do not add up (a truncated or
// hand-crafted file that would make a backend read past its buffer).
Result<std::size_t> checkTensor(const TensorProto& t, const std::string& where) {
  if (t.data_location() == TensorProto::EXTERNAL) {
    return fail(Errc::kUnsupported,
                where +
                    ": weights in external data files are not supported; save the model with "
                    "its weights inside (onnx.save(..., save_as_external_data=False))");
  }
  std::size_t count = 1;
  for (const auto dim : t.dims()) {
    if (dim < 0) return fail(Errc::kCorrupt, fmt::format("{}: negative dimension {}", where, dim));
    if (dim > 0 &&
        count > std::numeric_limits<std::size_t>::max() / static_cast<std::size_t>(dim)) {
      return fail(Errc::kCorrupt, where + ": dimensions overflow");
    }
    count *= static_cast<std::size_t>(dim);
  }
  if (t.has_raw_data()) {
    const std::size_t bytes = elementBytes(t.data_type());
    if (bytes == 0)
      return fail(Errc::kCorrupt,
                  fmt::format("{}: raw data of {}", where, typeName(t.data_type())));
    if (count > t.raw_data().size() / bytes || count * bytes != t.raw_data().size()) {
      return fail(Errc::kCorrupt, fmt::format("{}: {} elements declared, {} bytes of data", where,
                                              count, t.raw_data().size()));
    }
    return count;
  }
  const std::size_t per =
      t.data_type() == TensorProto::COMPLEX64 || t.data_type() == TensorProto::COMPLEX128 ? 2 : 1;
  if (typedValues(t) != count * per) {
    return fail(Errc::kCorrupt, fmt::format("{}: {} elements declared, {} values stored", where,
                                            count, typedValues(t) / per));
  }
  return count;
}

// Every tensor a graph's nodes carry as attributes (Constant values, ...), in subgraphs too.
Status checkNodeTensors(const ::onnx::GraphProto& graph, int depth = 0) {
  if (depth > 8) return fail(Errc::kUnsupported, "subgraphs nested more than 8 deep");
  for (const auto& node : graph.node()) {
    for (const auto& attr : node.attribute()) {
      const std::string where =
          fmt::format("node '{}' ({}) attribute '{}'", node.name(), node.op_type(), attr.name());
      if (attr.has_t()) SIE_TRY(checkTensor(attr.t(), where));
      for (const auto& t : attr.tensors()) SIE_TRY(checkTensor(t, where));
      if (attr.has_g()) SIE_CHECK(checkNodeTensors(attr.g(), depth + 1));
      for (const auto& g : attr.graphs()) SIE_CHECK(checkNodeTensors(g, depth + 1));
    }
  }
  for (const auto& t : graph.initializer()) {
    if (depth > 0) SIE_TRY(checkTensor(t, fmt::format("subgraph initializer '{}'", t.name())));
  }
  return ok();
}

TensorInfo describe(const ValueInfoProto& v) {
  TensorInfo info;
  info.name = v.name();
  if (!v.type().has_tensor_type()) {
    info.type = "non-tensor";
    return info;
  }
  const auto& tensor = v.type().tensor_type();
  info.type = typeName(tensor.elem_type());
  for (const auto& dim : tensor.shape().dim()) {
    info.shape.push_back(dim.has_dim_value() && dim.dim_value() > 0 ? dim.dim_value() : -1);
    info.dim_names.push_back(dim.has_dim_param() ? dim.dim_param() : "");
  }
  return info;
}

Result<ModelProto> parse(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return fail(Errc::kParse, "model file is empty");
  if (bytes.size() > kMaxModelBytes) {
    return fail(Errc::kUnsupported, fmt::format("model file is {} bytes; the limit is {}",
                                                bytes.size(), kMaxModelBytes));
  }
  ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return fail(Errc::kParse,
                "not an ONNX model: the file does not decode as an ONNX ModelProto "
                "(truncated, or not a .onnx file)");
  }
  if (!model.has_graph()) return fail(Errc::kParse, "not an ONNX model: it has no graph");
  return model;
}

}  // namespace

Result<ModelInfo> inspectModel(std::span<const std::uint8_t> bytes) {
  ModelProto model = SIE_TRY(parse(bytes));
  try {
    ::onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return fail(Errc::kCorrupt, fmt::format("invalid ONNX model: {}", e.what()));
  }
  ModelInfo info;
  info.sha256 = sha256Hex(bytes);
  info.size = bytes.size();
  info.ir_version = model.ir_version();
  info.model_version = model.model_version();
  info.producer = model.producer_name();
  if (!model.producer_version().empty()) info.producer += " " + model.producer_version();
  info.doc = model.doc_string();
  for (const auto& opset : model.opset_import()) info.opsets[opset.domain()] = opset.version();
  for (const auto& entry : model.metadata_props()) info.metadata[entry.key()] = entry.value();

  const auto& graph = model.graph();
  std::map<std::string, bool> initialized;
  for (const auto& t : graph.initializer()) {
    info.parameters += SIE_TRY(checkTensor(t, fmt::format("initializer '{}'", t.name())));
    initialized[t.name()] = true;
  }
  SIE_CHECK(checkNodeTensors(graph));
  for (const auto& input : graph.input()) {
    if (!initialized.contains(input.name())) info.inputs.push_back(describe(input));
  }
  for (const auto& output : graph.output()) info.outputs.push_back(describe(output));
  for (const auto& node : graph.node()) {
    const std::string op = node.domain().empty() || node.domain() == "ai.onnx"
                               ? node.op_type()
                               : node.domain() + ":" + node.op_type();
    ++info.operators[op];
  }
  info.nodes = static_cast<std::size_t>(graph.node_size());
  if (info.inputs.empty())
    return fail(Errc::kCorrupt, "invalid ONNX model: the graph has no input");
  if (info.outputs.empty())
    return fail(Errc::kCorrupt, "invalid ONNX model: the graph has no output");
  return info;
}

Result<std::string> specializeInput(std::span<const std::uint8_t> bytes,
                                    const std::map<std::size_t, std::int64_t>& dims) {
  ModelProto model = SIE_TRY(parse(bytes));
  auto* graph = model.mutable_graph();
  std::map<std::string, bool> initialized;
  for (const auto& t : graph->initializer()) initialized[t.name()] = true;
  ValueInfoProto* input = nullptr;
  for (auto& candidate : *graph->mutable_input()) {
    if (initialized.contains(candidate.name())) continue;
    if (input != nullptr) return fail(Errc::kUnsupported, "the model has more than one input");
    input = &candidate;
  }
  if (input == nullptr || !input->type().has_tensor_type()) {
    return fail(Errc::kUnsupported, "the model has no tensor input");
  }
  // Named dimensions of the input ("batch") fix the same name wherever it appears in outputs.
  std::map<std::string, std::int64_t> named;
  auto* shape = input->mutable_type()->mutable_tensor_type()->mutable_shape();
  for (int i = 0; i < shape->dim_size(); ++i) {
    auto* dim = shape->mutable_dim(i);
    if (dim->has_dim_value() && dim->dim_value() > 0) continue;
    auto fixed = dims.find(static_cast<std::size_t>(i));
    if (fixed == dims.end()) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("input '{}' dimension {} is dynamic and no size was given for it",
                              input->name(), i));
    }
    if (dim->has_dim_param()) named[dim->dim_param()] = fixed->second;
    dim->set_dim_value(fixed->second);
  }
  for (auto& output : *graph->mutable_output()) {
    if (!output.type().has_tensor_type()) continue;
    for (auto& dim :
         *output.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim()) {
      if (!dim.has_dim_param()) continue;
      auto fixed = named.find(dim.dim_param());
      if (fixed != named.end()) dim.set_dim_value(fixed->second);
    }
  }
  std::string out;
  if (!model.SerializeToString(&out)) return fail(Errc::kInternal, "cannot serialize the model");
  return out;
}

}  // namespace sie::onnx
