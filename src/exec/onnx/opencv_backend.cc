#include "exec/onnx/opencv_backend.h"

#include <mutex>

#include <fmt/format.h>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

namespace sie::onnx {
namespace {

constexpr std::string_view kName = "opencv";

// Operators OpenCV's importer has no layer for, whatever the shapes: rejected by name before
// OpenCV is asked. Anything else it cannot import, it names itself (node and operator).
bool unsupportedDomain(std::string_view op) { return op.find(':') != std::string_view::npos; }
bool controlFlow(std::string_view op) { return op == "If" || op == "Loop" || op == "Scan"; }

class OpenCvSession final : public InferenceSession {
 public:
  OpenCvSession(cv::dnn::Net net, std::vector<std::string> outputs)
      : net_(std::move(net)), outputs_(std::move(outputs)) {}

  Result<std::vector<Tensor>> run(const Tensor& input) override {
    std::vector<int> sizes(input.shape.begin(), input.shape.end());
    try {
      // OpenCV only reads the input: the const_cast lets the Mat wrap it without a copy.
      const cv::Mat blob(static_cast<int>(sizes.size()), sizes.data(), CV_32F,
                         const_cast<float*>(input.data.data()));
      net_.setInput(blob);
      std::vector<cv::Mat> results;
      net_.forward(results, outputs_);
      std::vector<Tensor> out;
      out.reserve(results.size());
      for (const cv::Mat& m : results) {
        Tensor t;
        for (int d = 0; d < m.dims; ++d) t.shape.push_back(m.size[d]);
        const cv::Mat dense = m.isContinuous() ? m : m.clone();
        const auto* begin = dense.ptr<float>();
        t.data.assign(begin, begin + dense.total());
        out.push_back(std::move(t));
      }
      return out;
    } catch (const std::exception& e) {  // cv::Exception, and standard ones from inside OpenCV
      return fail(Errc::kInvalidArgument, fmt::format("inference failed: {}", e.what()));
    }
  }

 private:
  cv::dnn::Net net_;
  std::vector<std::string> outputs_;
};

class OpenCvBackend final : public InferenceBackend {
 public:
  OpenCvBackend() {
    static std::once_flag once;
    std::call_once(once, [] {
      // Errors come back as exceptions, turned into our own messages; sessions are pooled per
      // worker, so OpenCV's own thread pool would only oversubscribe the cores.
      cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
      cv::setNumThreads(1);
    });
  }

  [[nodiscard]] std::string_view name() const override { return kName; }

  [[nodiscard]] Status supports(const ModelInfo& info) const override {
    for (const auto& [op, count] : info.operators) {
      if (unsupportedDomain(op)) {
        return fail(Errc::kUnsupported,
                    fmt::format("operator {} is not supported by the opencv backend (only the "
                                "default ai.onnx domain is; tree ensembles of ai.onnx.ml are not)",
                                op));
      }
      if (controlFlow(op)) {
        return fail(
            Errc::kUnsupported,
            fmt::format("operator {} (control flow) is not supported by the opencv backend", op));
      }
    }
    return ok();
  }

  Result<std::unique_ptr<InferenceSession>> load(std::span<const std::uint8_t> model,
                                                 const ModelInfo& info) override {
    auto net = SIE_TRY(import(model));
    std::vector<std::string> outputs;
    outputs.reserve(info.outputs.size());
    for (const auto& o : info.outputs) outputs.push_back(o.name);
    return std::make_unique<OpenCvSession>(std::move(net), std::move(outputs));
  }

 private:
  static Result<cv::dnn::Net> import(std::span<const std::uint8_t> model) {
    try {
      cv::dnn::Net net =
          cv::dnn::readNetFromONNX(reinterpret_cast<const char*>(model.data()), model.size());
      if (net.empty()) return fail(Errc::kUnsupported, "the opencv backend imported no layers");
      net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
      return net;
    } catch (const cv::Exception& e) {
      // OpenCV's message names the node and operator it failed on.
      return fail(Errc::kUnsupported,
                  fmt::format("the opencv backend cannot import the model: {}", e.what()));
    } catch (const std::exception& e) {
      // Shapes it cannot work with (a convolution of a one-dimensional input) can also end in
      // standard exceptions: "cannot create std::vector larger than max_size()".
      return fail(Errc::kUnsupported,
                  fmt::format("the opencv backend cannot import the model: {}", e.what()));
    }
  }
};

}  // namespace

std::unique_ptr<InferenceBackend> makeOpenCvBackend() { return std::make_unique<OpenCvBackend>(); }

}  // namespace sie::onnx
