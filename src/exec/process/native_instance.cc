#include "exec/process/native_instance.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/json_text.h"
#include "exec/process/frame.h"
#include "exec/process/process_binding.h"
#include "exec/process/wire.h"
#include "sie/clock.h"

namespace sie::process {
namespace {

class NativeInstance final : public FunctionInstance {
 public:
  NativeInstance(std::unique_ptr<Worker> worker, int fd) : worker_(std::move(worker)), fd_(fd) {}
  ~NativeInstance() override {
    shutdown(fd_, SHUT_RDWR);  // a well-behaved worker exits on end of channel
    worker_.reset();
    close(fd_);
  }

  Status awaitHello(std::chrono::milliseconds start_timeout) {
    auto frame = readFrame(fd_, monotonicNs() + std::chrono::nanoseconds(start_timeout).count());
    if (!frame) return lost(frame.error(), "starting");
    if (frame->type == 'F') {
      return fail(Errc::kInvalidArgument,
                  fmt::format("[{}] init failed: {}", worker_->label(), errorText(frame->body)));
    }
    if (frame->type != 'H') {
      return fail(Errc::kParse, fmt::format("[{}] sent frame '{}' before its hello",
                                            worker_->label(), frame->type));
    }
    // {"sdk": "cpp/2", "binaryWindows": true}: the worker reads 'B' frames. Any other hello
    // (older SDKs, hand-written workers) gets all-JSON 'I' frames.
    const auto hello = parseJsonOrDiscarded(frame->body);
    if (hello.is_object()) {
      const auto binary = hello.find("binaryWindows");
      binary_windows_ = binary != hello.end() && binary->is_boolean() && binary->get<bool>();
    }
    return ok();
  }

  Result<Output> invoke(const Invocation& call) override {
    if (!healthy_) return fail(Errc::kIo, worker_->obituary());
    const std::int64_t deadline_ns =
        monotonicNs() + std::chrono::nanoseconds(call.spec.timeout).count();
    const std::int64_t deadline_ms = systemClock().nowNs() / 1'000'000 + call.spec.timeout.count();
    const Status sent = binary_windows_
                            ? writeFrame(fd_, 'B', invocationFrame(call, deadline_ms), deadline_ns)
                            : writeFrame(fd_, 'I', invocationJson(call, deadline_ms), deadline_ns);
    if (!sent) {
      return lost(sent.error(), "invoking");
    }
    auto frame = readFrame(fd_, deadline_ns);
    if (!frame) return lost(frame.error(), "invoking");
    if (frame->type == 'R') return parseResult(frame->body);
    if (frame->type == 'E') {
      return fail(Errc::kInvalidArgument,
                  fmt::format("[{}] {}", worker_->label(), errorText(frame->body)));
    }
    healthy_ = false;  // out of step with the protocol: its next answer cannot be trusted
    worker_->kill();
    return fail(Errc::kParse,
                fmt::format("[{}] answered with unknown frame type '{}'; worker killed",
                            worker_->label(), frame->type));
  }

  [[nodiscard]] bool healthy() const override { return healthy_; }

 private:
  // The channel failed: the worker hangs (killed now) or is gone.
  tl::unexpected<Error> lost(const Error& error, const char* doing) {
    healthy_ = false;
    worker_->kill();
    if (error.code != Errc::kTimeout) return fail(Errc::kIo, worker_->obituary());
    return fail(Errc::kTimeout, fmt::format("[{}] {} while {}; worker killed", worker_->label(),
                                            error.message, doing));
  }

  std::unique_ptr<Worker> worker_;
  int fd_;
  bool healthy_ = true;
  bool binary_windows_ = false;
};

}  // namespace

Result<std::unique_ptr<FunctionInstance>> startNative(const WorkerPlan& plan,
                                                      const FunctionSpec& spec, int instance) {
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    return fail(Errc::kIo, fmt::format("socketpair: {}", std::strerror(errno)));
  }
  const int child_fd = fds[1];
  auto worker =
      Worker::spawn(plan, instance, child_fd, -1, {"SIE_PROTOCOL=native", "SIE_CHANNEL_FD=3"});
  close(child_fd);
  if (!worker) {
    close(fds[0]);
    return tl::unexpected(worker.error());
  }
  if (fcntl(fds[0], F_SETFL, O_NONBLOCK) != 0) {
    close(fds[0]);
    return fail(Errc::kIo, fmt::format("fcntl: {}", std::strerror(errno)));
  }
  auto native = std::make_unique<NativeInstance>(std::move(*worker), fds[0]);
  SIE_CHECK(native->awaitHello(processBinding(spec)->start_timeout));
  return std::unique_ptr<FunctionInstance>(std::move(native));
}

}  // namespace sie::process
