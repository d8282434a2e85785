#include "exec/process/lambda_instance.h"

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "exec/process/process_binding.h"
#include "exec/process/wire.h"
#include "http/http_server.h"
#include "sie/clock.h"

namespace sie::process {
namespace {

using http::HttpRequest;
using http::HttpResponse;

constexpr std::string_view kPrefix = "/2018-06-01/runtime/";
constexpr auto kPollSlice = std::chrono::milliseconds(20);

HttpResponse apiError(int status, std::string_view type, std::string_view message) {
  return {status, "application/json",
          fmt::format(R"({{"errorMessage":"{}","errorType":"{}"}})", message, type)};
}

class LambdaInstance final : public FunctionInstance {
 public:
  LambdaInstance(const FunctionSpec& spec, int instance)
      : arn_(fmt::format("arn:aws:lambda:local:000000000000:function:{}", spec.name)),
        label_(fmt::format("{}#{}", spec.id(), instance)),
        instance_(instance) {}

  ~LambdaInstance() override {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    changed_.notify_all();
    worker_.reset();
    if (api_) api_->stop();
  }

  Status open(const WorkerPlan& plan, const FunctionSpec& spec) {
    auto handler = [this](const HttpRequest& request) { return handle(request); };
    // In the function's own network when it has one: its loopback then holds only this API.
    if (plan.view && plan.view->ownNetwork()) {
      const int listener = SIE_TRY(plan.view->listen(0));
      api_ = SIE_TRY(http::HttpServer::serve(listener, std::move(handler)));
    } else {
      api_ = SIE_TRY(http::HttpServer::start("127.0.0.1:0", std::move(handler)));
    }
    const std::uint16_t port = api_->port();
    const auto memory_mb = processBinding(spec)->memory_bytes >> 20;
    worker_ = SIE_TRY(Worker::spawn(
        plan, instance_, -1, port,
        {fmt::format("AWS_LAMBDA_RUNTIME_API=127.0.0.1:{}", port),
         "AWS_LAMBDA_FUNCTION_NAME=" + spec.name, "AWS_LAMBDA_FUNCTION_VERSION=" + spec.version,
         fmt::format("AWS_LAMBDA_FUNCTION_MEMORY_SIZE={}", memory_mb == 0 ? 10240 : memory_mb),
         // Lambda's names for where a function's logs go; runtime clients require them. Here the
         // worker's output is the instance's log (sie logs NAME).
         "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + spec.name,
         fmt::format("AWS_LAMBDA_LOG_STREAM_NAME=[{}]{}", spec.version, instance_),
         "LAMBDA_TASK_ROOT=" + std::filesystem::path(plan.executable).parent_path().string()}));
    // Ready once the runtime asks for its first event.
    const auto deadline = std::chrono::steady_clock::now() + processBinding(spec)->start_timeout;
    std::unique_lock lock(mu_);
    while (!ready_ && !init_error_) {
      if (!worker_->running()) return fail(Errc::kIo, worker_->obituary());
      if (std::chrono::steady_clock::now() >= deadline) {
        worker_->kill();
        return fail(Errc::kTimeout,
                    fmt::format("[{}] did not ask for an event within {} ms of its start",
                                worker_->label(), processBinding(spec)->start_timeout.count()));
      }
      changed_.wait_for(lock, kPollSlice);
    }
    if (init_error_) {
      worker_->kill();
      return fail(Errc::kInvalidArgument,
                  fmt::format("[{}] init failed: {}", worker_->label(), *init_error_));
    }
    return ok();
  }

  Result<Output> invoke(const Invocation& call) override {
    std::unique_lock lock(mu_);
    if (!healthy_) return fail(Errc::kIo, worker_->obituary());
    const auto deadline = std::chrono::steady_clock::now() + call.spec.timeout;
    request_id_ = fmt::format("{}-{}-{}", call.spec.name, instance_, ++sequence_);
    deadline_ms_ = systemClock().nowNs() / 1'000'000 + call.spec.timeout.count();
    event_ = invocationJson(call, deadline_ms_);
    taken_ = false;
    answer_.reset();
    changed_.notify_all();
    while (!answer_) {
      if (!worker_->running()) {
        healthy_ = false;
        return fail(Errc::kIo, worker_->obituary());
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        healthy_ = false;
        worker_->kill();
        return fail(Errc::kTimeout, fmt::format("[{}] no answer within {} ms; worker killed",
                                                worker_->label(), call.spec.timeout.count()));
      }
      changed_.wait_for(lock, kPollSlice);
    }
    request_id_.clear();
    Result<std::string> answer = std::move(*answer_);
    answer_.reset();
    if (!answer) return tl::unexpected(answer.error());
    return parseResult(*answer);
  }

  [[nodiscard]] bool healthy() const override {
    std::lock_guard lock(mu_);
    return healthy_;
  }

 private:
  // Runs on the API server's thread; GET next blocks it until an event is there.
  HttpResponse handle(const HttpRequest& request) {
    if (!request.path.starts_with(kPrefix)) return apiError(404, "NotFound", "unknown route");
    const std::string_view route = std::string_view(request.path).substr(kPrefix.size());
    std::unique_lock lock(mu_);
    if (request.method == "GET" && route == "invocation/next") {
      ready_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return closed_ || (!request_id_.empty() && !taken_); });
      if (closed_) return apiError(410, "Shutdown", "the instance is stopping");
      taken_ = true;
      HttpResponse response{200, "application/json", event_, {}};
      response.headers = {{"Lambda-Runtime-Aws-Request-Id", request_id_},
                          {"Lambda-Runtime-Deadline-Ms", std::to_string(deadline_ms_)},
                          {"Lambda-Runtime-Invoked-Function-Arn", arn_},
                          {"Lambda-Runtime-Trace-Id", "Root=" + request_id_}};
      return response;
    }
    if (request.method == "POST" && route == "init/error") {
      init_error_ = errorText(request.body);
      changed_.notify_all();
      return {202, "application/json", R"({"status":"OK"})", {}};
    }
    if (request.method == "POST" && route.starts_with("invocation/")) {
      const std::string_view rest = route.substr(std::string_view("invocation/").size());
      const auto slash = rest.find('/');
      const std::string_view id = rest.substr(0, slash);
      const std::string_view verb = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
      if (verb != "response" && verb != "error") return apiError(404, "NotFound", "unknown route");
      if (id != request_id_ || !taken_ || answer_) {
        return apiError(400, "InvalidRequestID", "no invocation with this id is waiting");
      }
      if (verb == "response") {
        answer_ = request.body;
      } else {
        answer_ =
            fail(Errc::kInvalidArgument, fmt::format("[{}] {}", label_, errorText(request.body)));
      }
      changed_.notify_all();
      return {202, "application/json", R"({"status":"OK"})", {}};
    }
    return apiError(404, "NotFound", "unknown route");
  }

  const std::string arn_;
  const std::string label_;
  const int instance_;
  std::unique_ptr<http::HttpServer> api_;
  std::unique_ptr<Worker> worker_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  bool closed_ = false;
  bool ready_ = false;
  bool healthy_ = true;
  std::optional<std::string> init_error_;
  std::uint64_t sequence_ = 0;
  std::string request_id_;  // the invocation in flight; "" when none
  std::string event_;
  std::int64_t deadline_ms_ = 0;
  bool taken_ = false;  // handed to the runtime by GET next
  std::optional<Result<std::string>> answer_;
};

}  // namespace

Result<std::unique_ptr<FunctionInstance>> startLambda(const WorkerPlan& plan,
                                                      const FunctionSpec& spec, int instance) {
  auto lambda = std::make_unique<LambdaInstance>(spec, instance);
  SIE_CHECK(lambda->open(plan, spec));
  return std::unique_ptr<FunctionInstance>(std::move(lambda));
}

}  // namespace sie::process
