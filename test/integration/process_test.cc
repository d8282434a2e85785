// The process runtime with real workers: the example functions in C++, Python and a bash Lambda
// bootstrap; worker errors, crashes, hangs and init failures; and the sandbox (filesystem,
// network, fork, memory, environment, descriptors, user), probed from inside a worker.
#include <arpa/inet.h>
#include <elf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "config/function_manifest.h"
#include "exec/process/function_view.h"
#include "exec/process/process_binding.h"
#include "exec/process/process_executor.h"
#include "exec/process/sandbox_layers.h"
#include "runtime/instance_pool.h"
#include "runtime_schemas.h"
#include "servers.h"

namespace sie {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), {}};
}

FunctionSpec manifestAt(const std::string& path) {
  auto specs = node::parseManifests({path, readFile(path)}, sie::testing::runtimeSchemas());
  EXPECT_TRUE(specs) << specs.error().str();
  return specs->front();
}

FunctionSpec manifestText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return manifestAt(path);
}

// One invocation's inputs, kept alive for the Invocation that refers to them.
struct Call {
  Event event;
  Telemetry reading;
  std::map<std::string, std::vector<Sample>, std::less<>> windows;
  std::map<std::string, double, std::less<>> values;

  [[nodiscard]] Invocation of(const FunctionSpec& spec) const {
    return {event, reading, windows, values, spec};
  }
};

// A bearing temperature reading `value` after `history` readings at `level`.
Call bearing(double value, std::size_t history, double level = 40.0,
             const std::string& sensor = "rotating/pump1/bearing_temp") {
  Call c;
  c.event.id = "ev-1";
  c.event.type = std::string(kTelemetryType);
  c.reading.sensor = Symbol::intern(sensor);
  c.reading.ts_ns = 1'700'000'000'000'000'000;
  c.reading.values = {value};
  auto& w = c.windows["history"];
  for (std::size_t i = 0; i < history; ++i) {
    w.push_back(Sample{c.reading.ts_ns - static_cast<std::int64_t>(history - i) * 1'000'000'000,
                       {level + (i % 2 == 0 ? 0.2 : -0.2)}});
  }
  return c;
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Workers run as nobody when the tests run as root: the folders they read must be open.
    chmod(dir_.path().c_str(), 0755);
  }

  std::unique_ptr<FunctionInstance> start(const FunctionSpec& spec) {
    EXPECT_TRUE(runtime_->validate(spec)) << runtime_->validate(spec).error().str();
    auto instance = runtime_->instantiate(spec);
    EXPECT_TRUE(instance) << instance.error().str();
    return instance ? std::move(*instance) : nullptr;
  }

  // A Python worker in the test folder: `body` is the handler's code (inv is the Invocation).
  // `process` adds spec.process fields ("processes: 8, network: true"), `extra` spec fields.
  FunctionSpec pythonWorker(const std::string& name, const std::string& body,
                            const std::string& process = "", const std::string& extra = "") {
    const std::string script = dir_.file(name + ".py");
    std::ofstream(script) << "#!/usr/bin/python3\nimport json, os, socket, sys\n"
                          << "sys.path.insert(0, '" SIE_SOURCE_DIR "/sdk/python')\n"
                          << "import sie_worker\n"
                          << body << "\n";
    chmod(script.c_str(), 0755);
    return manifestText(dir_.file(name + ".yaml"),
                        "apiVersion: sie/v1\nkind: Function\nmetadata: {name: " + name +
                            "}\nspec:\n  runtime: process\n  handler: " + name +
                            ".py\n  triggers: [\"probe/#\"]\n  timeout: 2s\n" + extra +
                            "  process: {read: [\"" SIE_SOURCE_DIR "/sdk/python\"]" +
                            (process.empty() ? "" : ", " + process) + "}\n");
  }

  TempDir dir_;
  std::shared_ptr<Executor> runtime_ = process::makeExecutor();
};

void expectOverheatingRule(FunctionInstance& instance, const FunctionSpec& spec) {
  auto hot = instance.invoke(bearing(55.0, 60).of(spec));
  ASSERT_TRUE(hot) << hot.error().str();
  ASSERT_TRUE(hot->decision);
  EXPECT_TRUE(hot->decision->anomaly);
  EXPECT_EQ(hot->decision->label, "overheating");
  EXPECT_NEAR(hot->decision->score, 15.0 / 8.0 / 2, 1e-6);  // rise 15 over limit 8, halved
  EXPECT_THAT(hot->decision->detail, HasSubstr("60"));

  auto normal = instance.invoke(bearing(41.0, 60).of(spec));
  ASSERT_TRUE(normal) << normal.error().str();
  EXPECT_FALSE(normal->decision->anomaly);
  EXPECT_EQ(normal->decision->label, "normal");

  auto cold = instance.invoke(bearing(70.0, 3).of(spec));
  ASSERT_TRUE(cold) << cold.error().str();
  EXPECT_EQ(cold->decision->label, "warming-up");
  EXPECT_TRUE(instance.healthy());
}

// Each example manifest, started as the runtime would, decides the rule correctly.
void expectExampleDecides(Executor& runtime, const std::string& manifest) {
  const FunctionSpec spec = manifestAt(manifest);
  ASSERT_TRUE(runtime.validate(spec)) << runtime.validate(spec).error().str();
  auto instance = runtime.instantiate(spec);
  ASSERT_TRUE(instance) << instance.error().str();
  expectOverheatingRule(**instance, spec);
}

TEST_F(ProcessTest, CppExampleDecidesThroughTheNativeProtocol) {
  expectExampleDecides(*runtime_, SIE_BINARY_DIR "/examples/functions/pump-rule-cpp/function.yaml");
}

TEST_F(ProcessTest, PythonExampleDecidesThroughTheNativeProtocol) {
  expectExampleDecides(*runtime_, SIE_SOURCE_DIR "/examples/functions/pump-rule-py/function.yaml");
}

TEST_F(ProcessTest, BashBootstrapDecidesThroughTheLambdaRuntimeApi) {
  expectExampleDecides(*runtime_,
                       SIE_SOURCE_DIR "/examples/functions/pump-rule-lambda/function.yaml");
}

// AWS's own runtime interface client for Node.js (npm aws-lambda-ric, installed into the
// example's folder by scripts/test.sh) serves an ordinary handler unchanged.
TEST_F(ProcessTest, NodeHandlerDecidesThroughAwsLambdaRic) {
  const std::string folder = SIE_SOURCE_DIR "/examples/functions/pump-rule-node";
  ASSERT_TRUE(std::filesystem::exists(folder + "/node_modules/aws-lambda-ric/index.mjs"))
      << "aws-lambda-ric is not installed: npm install --prefix " << folder;
  expectExampleDecides(*runtime_, folder + "/function.yaml");
}

TEST_F(ProcessTest, ArtifactNamesTheExecutableAndItsDigest) {
  const FunctionSpec spec =
      manifestAt(SIE_SOURCE_DIR "/examples/functions/pump-rule-py/function.yaml");
  const auto artifact = runtime_->artifact(spec);
  EXPECT_EQ(artifact.at("executable"),
            SIE_SOURCE_DIR "/examples/functions/pump-rule-py/handler.py");
  EXPECT_EQ(artifact.at("sha256").size(), 64U);
}

TEST_F(ProcessTest, KvWritesAndEventsComeBackFromTheWorker) {
  const FunctionSpec spec = pythonWorker("emitter", R"(
def handle(inv):
    return {"decision": {"score": 0.25, "anomaly": False},
            "kv": [{"key": "health/{sensor}", "value": "0.25", "ttlMs": 5000}],
            "events": [{"type": "io.sie.command", "subject": inv.sensor, "data": {"open": 1}}]}
sie_worker.serve(handle))");
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  auto out = instance->invoke(bearing(40, 5).of(spec));
  ASSERT_TRUE(out) << out.error().str();
  EXPECT_EQ(out->decision->label, "normal");
  ASSERT_EQ(out->kv_writes.size(), 1U);
  EXPECT_EQ(out->kv_writes[0].key, "health/{sensor}");
  EXPECT_EQ(out->kv_writes[0].ttl, std::chrono::milliseconds(5000));
  ASSERT_EQ(out->events.size(), 1U);
  EXPECT_EQ(out->events[0].type, "io.sie.command");
  EXPECT_EQ(out->events[0].data, R"({"open":1})");
}

// A worker whose hello asks for binary windows gets 'B' frames; any other hello (an older SDK, a
// hand-written worker) gets the all-JSON 'I' frames. Both read the same window.
TEST_F(ProcessTest, WorkersThatAskForBinaryWindowsGetThemAndOthersGetJson) {
  for (const std::string hello : {R"({"sdk":"test"})", R"({"sdk":"test","binaryWindows":true})",
                                  R"({"binaryWindows":"yes"})", "not json"}) {
    const FunctionSpec spec = pythonWorker("frames", R"(
fd = sie_worker._channel()
sie_worker._send(fd, b"H", b')" + hello + R"(')
while (frame := sie_worker._receive(fd)) is not None:
    kind, body = frame
    history = sie_worker.parse_invocation(kind, body).window("history")
    decision = {"label": kind.decode(), "score": sum(history.value), "detail": str(history.ts[0])}
    sie_worker._send(fd, b"R", json.dumps({"decision": decision}).encode()))");
    auto instance = start(spec);
    ASSERT_TRUE(instance) << hello;
    const Call call = bearing(55.0, 60);
    auto out = instance->invoke(call.of(spec));
    ASSERT_TRUE(out) << hello << ": " << out.error().str();
    EXPECT_EQ(out->decision->label, hello.find("true") != std::string::npos ? "B" : "I") << hello;
    EXPECT_NEAR(out->decision->score, 60 * 40.0, 1e-9) << hello;  // ±0.2 alternate, 60 even
    EXPECT_EQ(out->decision->detail, std::to_string(call.windows.at("history").front().ts_ns));
  }
}

TEST_F(ProcessTest, HandlerErrorsFailTheInvocationAndTheWorkerKeepsServing) {
  const FunctionSpec spec = pythonWorker("flaky", R"(
def handle(inv):
    if inv.value < 0:
        raise ValueError("negative reading")
    return sie_worker.Decision(score=inv.value)
sie_worker.serve(handle))");
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  auto bad = instance->invoke(bearing(-1, 1).of(spec));
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.error().message, HasSubstr("ValueError: negative reading"));
  EXPECT_TRUE(instance->healthy());
  auto good = instance->invoke(bearing(3, 1).of(spec));
  ASSERT_TRUE(good) << good.error().str();
  EXPECT_DOUBLE_EQ(good->decision->score, 3.0);
}

TEST_F(ProcessTest, MalformedResultsAreClearErrors) {
  const FunctionSpec spec = pythonWorker("garbled", R"(
answers = iter([{"decision": {"score": "high"}}, {"kv": [{"value": 1}]}, {"events": 3}])
sie_worker.serve(lambda inv: next(answers)))");
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  auto wrong_type = instance->invoke(bearing(1, 1).of(spec));
  ASSERT_FALSE(wrong_type);
  EXPECT_THAT(wrong_type.error().message, HasSubstr("decision.score has the wrong type"));
  auto no_key = instance->invoke(bearing(1, 1).of(spec));
  ASSERT_FALSE(no_key);
  EXPECT_THAT(no_key.error().message, HasSubstr("kv[].key is missing"));
  auto not_list = instance->invoke(bearing(1, 1).of(spec));
  ASSERT_FALSE(not_list);
  EXPECT_THAT(not_list.error().message, HasSubstr("events must be a list"));
  EXPECT_TRUE(instance->healthy());
}

TEST_F(ProcessTest, InitFailureIsReportedWithTheWorkersReason) {
  const FunctionSpec spec = pythonWorker("noinit", "sie_worker.init_failed('model file missing')");
  ASSERT_TRUE(runtime_->validate(spec));
  auto instance = runtime_->instantiate(spec);
  ASSERT_FALSE(instance);
  EXPECT_THAT(instance.error().message, HasSubstr("init failed: model file missing"));
}

TEST_F(ProcessTest, AWorkerThatExitsAtStartIsReportedWithItsOutput) {
  const FunctionSpec spec =
      pythonWorker("dies", "print('cannot open config', file=sys.stderr)\nsys.exit(4)");
  auto instance = runtime_->instantiate(spec);
  ASSERT_FALSE(instance);
  EXPECT_THAT(instance.error().message, HasSubstr("exited with code 4"));
  EXPECT_THAT(instance.error().message, HasSubstr("cannot open config"));
}

TEST_F(ProcessTest, AHungWorkerIsKilledAtTheDeadlineAndThePoolReplacesIt) {
  FunctionSpec spec = pythonWorker("hangs", R"(
import time
def handle(inv):
    if inv.value > 100:
        time.sleep(3600)
    return sie_worker.Decision(score=inv.value)
sie_worker.serve(handle))",
                                   "", "  scaling: {min: 1, max: 1}\n");
  spec.timeout = std::chrono::milliseconds(300);
  node::InstancePool pool(runtime_, spec);
  ASSERT_TRUE(pool.warm());
  {
    auto lease = pool.acquire();
    ASSERT_TRUE(lease);
    const auto begin = std::chrono::steady_clock::now();
    auto out = (*lease)->invoke(bearing(500, 1).of(spec));
    ASSERT_FALSE(out);
    EXPECT_EQ(out.error().code, Errc::kTimeout);
    EXPECT_THAT(out.error().message, HasSubstr("worker killed"));
    EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(2));
    EXPECT_FALSE((*lease)->healthy());
  }
  EXPECT_EQ(pool.live(), 0);    // dropped on return
  auto lease = pool.acquire();  // a new worker
  ASSERT_TRUE(lease) << lease.error().str();
  auto out = (*lease)->invoke(bearing(7, 1).of(spec));
  ASSERT_TRUE(out) << out.error().str();
  EXPECT_DOUBLE_EQ(out->decision->score, 7.0);
}

TEST_F(ProcessTest, ACrashIsReportedWithTheExitAndTheInstanceIsNotReused) {
  const FunctionSpec spec = pythonWorker("crashes", R"(
def handle(inv):
    print('about to crash', flush=True)
    os._exit(3)
sie_worker.serve(handle))");
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  auto out = instance->invoke(bearing(1, 1).of(spec));
  ASSERT_FALSE(out);
  EXPECT_THAT(out.error().message, HasSubstr("exited with code 3"));
  EXPECT_FALSE(instance->healthy());
}

TEST_F(ProcessTest, LambdaErrorRouteAndTimeout) {
  const std::string bootstrap = dir_.file("bootstrap");
  std::ofstream(bootstrap) << R"sh(#!/bin/bash
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  H="$(mktemp)"
  EVENT=$(curl -sS -D "$H" "$API/invocation/next")
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d '[:space:]' | cut -d: -f2)
  DEADLINE=$(grep -Fi Lambda-Runtime-Deadline-Ms "$H" | tr -d '[:space:]' | cut -d: -f2)
  case "$(jq -r .reading.value <<<"$EVENT")" in
    1) curl -sS "$API/invocation/$ID/error" -d '{"errorMessage":"sensor offline","errorType":"Offline"}' ;;
    2) sleep 60 ;;
    *) curl -sS "$API/invocation/$ID/response" -d "{\"decision\":{\"score\":$DEADLINE}}" ;;
  esac >/dev/null
done
)sh";
  chmod(bootstrap.c_str(), 0755);
  FunctionSpec spec = manifestText(dir_.file("lambda.yaml"), R"(apiVersion: sie/v1
kind: Function
metadata: {name: lam}
spec:
  runtime: process
  handler: bootstrap
  triggers: ["probe/#"]
  timeout: 1500ms
  process: {protocol: lambda, processes: 16}
)");
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto ok = instance->invoke(bearing(5, 1).of(spec));
  ASSERT_TRUE(ok) << ok.error().str();
  EXPECT_NEAR(ok->decision->score, static_cast<double>(now_ms + 1500),
              1000);  // the deadline header
  auto error = instance->invoke(bearing(1, 1).of(spec));
  ASSERT_FALSE(error);
  EXPECT_THAT(error.error().message, HasSubstr("Offline: sensor offline"));
  EXPECT_TRUE(instance->healthy());
  auto hung = instance->invoke(bearing(2, 1).of(spec));
  ASSERT_FALSE(hung);
  EXPECT_EQ(hung.error().code, Errc::kTimeout);
  EXPECT_FALSE(instance->healthy());
}

TEST_F(ProcessTest, ValidationNamesTheProblem) {
  FunctionSpec missing = pythonWorker("ok", "sie_worker.serve(lambda inv: None)");
  missing.handler = "nope.py";
  auto v = runtime_->validate(missing);
  ASSERT_FALSE(v);
  EXPECT_THAT(v.error().message, HasSubstr("nope.py' is not a file"));

  FunctionSpec not_exec = pythonWorker("plain", "sie_worker.serve(lambda inv: None)");
  chmod(dir_.file("plain.py").c_str(), 0644);
  v = runtime_->validate(not_exec);
  ASSERT_FALSE(v);
  EXPECT_THAT(v.error().message, HasSubstr("is not executable"));
}

// The sandbox, probed from inside: each check runs in the worker and reports what happened.
class SandboxTest : public ProcessTest {
 protected:
  // The probe forks, connects and allocates 512 MiB: slow on a loaded machine under ASan.
  static constexpr std::chrono::milliseconds kProbeTimeout{15'000};
  static constexpr const char* kProbe = R"(
import errno, resource
def attempt(f):
    try:
        f()
        return "allowed"
    except OSError as e:
        return "denied:" + (errno.errorcode.get(e.errno, "?") if e.errno else type(e).__name__)
    except MemoryError:
        return "denied:MemoryError"

def connect(port, proto=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    s.settimeout(2)
    s.connect(("127.0.0.1", port))
    s.close()

def child_setsid():
    # The worker leads its process group, where setsid always fails; a child is the escape.
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os._exit(0)
        except OSError as e:
            os._exit(e.errno)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code != 0:
        raise OSError(code, os.strerror(code))

def clone_namespace():
    # clone(CLONE_NEWUSER | SIGCHLD) without a new stack: the child goes on like fork's.
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    pid = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)
    if pid == 0:
        os._exit(0)
    if pid < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    os.waitpid(pid, 0)

def handle(inv):
    arg = inv.param("port", 0)
    only = os.environ.get("PROBE_ONLY", "")
    checks = {
        "write_cwd": lambda: open("ok.txt", "w").write("x"),
        "write_tmp": lambda: open("/tmp/sie-sandbox-escape", "w").write("x"),
        "read_secret": lambda: open(os.environ["PROBE_SECRET_PATH"]).read(),
        "tcp": lambda: connect(int(arg)),
        "mptcp": lambda: connect(int(arg), 262),
        "clone_newuser": clone_namespace,
        "setsid": child_setsid,
        "udp": lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
        "inet6": lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM),
        "fork": lambda: (lambda pid: os._exit(0) if pid == 0 else os.waitpid(pid, 0))(os.fork()),
        "memory": lambda: bytearray(512 << 20),
        "signal_node": lambda: os.kill(int(os.environ["PROBE_NODE_PID"]), 0),
    }
    if only:  # an attack the sandbox answers by killing the worker: nothing comes back
        checks[only]()
        return {"decision": {"score": 0, "detail": json.dumps({only: "allowed"})}}
    # The attacks that kill are each tried alone (killedFor below).
    for k in ("clone_newuser", "setsid"):
        del checks[k]
    if inv.param("processes", 1) == 1:
        del checks["fork"]
    out = {k: attempt(f) for k, f in checks.items()}
    out["uid"] = os.getuid()
    out["ns"] = {}
    for n in ("net", "ipc", "uts", "mnt", "pid"):
        try:
            out["ns"][n] = os.readlink("/proc/self/ns/" + n)
        except OSError as e:
            out["ns"][n] = "unreadable"
    out["cwd_is_home"] = os.getcwd() == os.environ.get("HOME")
    out["env"] = sorted(os.environ)
    raw = open("/proc/self/environ", "rb").read().split(b"\0")
    out["handler_env"] = [e.decode() for e in raw if e.startswith(b"_HANDLER=")]
    out["fds"] = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    out["nofile"] = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return {"decision": {"score": 0, "detail": json.dumps(out)}}

sie_worker.serve(handle)
)";

  nlohmann::json probe(const std::string& process, const std::string& extra = "") {
    FunctionSpec spec = pythonWorker("probe", kProbe, process, extra);
    spec.timeout = kProbeTimeout;
    auto instance = start(spec);
    if (!instance) return {};
    auto out = instance->invoke(bearing(1, 1, 40, "probe/x").of(spec));
    EXPECT_TRUE(out) << out.error().str();
    if (!out || !out->decision) return {};
    return nlohmann::json::parse(out->decision->detail);
  }

  // Runs only the probe's `check`, which must kill the worker for calling `syscall`.
  void expectKilledFor(const std::string& check, const std::string& syscall,
                       const std::string& more = "") {
    FunctionSpec spec = pythonWorker("probe", kProbe, process(more, check), env());
    spec.timeout = kProbeTimeout;
    auto instance = start(spec);
    ASSERT_TRUE(instance);
    auto out = instance->invoke(bearing(1, 1, 40, "probe/x").of(spec));
    ASSERT_FALSE(out) << check << " was allowed";
    EXPECT_THAT(out.error().str(), HasSubstr("killed for calling " + syscall + "("));
  }

  void SetUp() override {
    ProcessTest::SetUp();
    // A node state file the worker must not read, although its mode would let it.
    secret_ = state_dir_.file("state.db");
    chmod(state_dir_.path().c_str(), 0755);
    std::ofstream(secret_) << "secret";
    chmod(secret_.c_str(), 0644);
    // A descriptor the node holds open without O_CLOEXEC must not leak into workers.
    leaked_fd_ = open(secret_.c_str(), O_RDONLY);
    setenv("SIE_TEST_NODE_SECRET", "hunter2", 1);
    listener_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(listener_, 16);
  }
  void TearDown() override {
    close(leaked_fd_);
    close(listener_);
    unsetenv("SIE_TEST_NODE_SECRET");
    std::filesystem::remove("/tmp/sie-sandbox-escape");
  }

  [[nodiscard]] std::string env(int processes = 1) const {
    return fmt::format("\n  params: {{port: {}, processes: {}}}\n", port_, processes);
  }
  // `only`: the one attack the probe tries (expectKilledFor).
  [[nodiscard]] std::string process(const std::string& more = "",
                                    const std::string& only = "") const {
    return "env: {PROBE_SECRET_PATH: " + secret_ + ", PROBE_NODE_PID: \"" +
           std::to_string(getpid()) + "\", _HANDLER: probe.handle, PROBE_ONLY: \"" + only + "\"}" +
           more;
  }

  TempDir state_dir_;  // stands for the node's data folder
  std::string secret_;
  int leaked_fd_ = -1;
  int listener_ = -1;
  int port_ = 0;
};

std::string hostNamespace(const std::string& name) {
  return std::filesystem::read_symlink("/proc/self/ns/" + name).string();
}

// Outside its folder: with a root view of its own (mount namespace) the node's files are not
// there and the rest is read-only; without, Landlock refuses.
std::string hiddenFile() {
  return process::sandboxLayers().namespaces ? "denied:ENOENT" : "denied:EACCES";
}
std::string readOnly() {
  return process::sandboxLayers().namespaces ? "denied:EROFS" : "denied:EACCES";
}

TEST_F(SandboxTest, AWorkerIsConfinedByDefault) {
  const nlohmann::json r = probe(process(), env());
  ASSERT_FALSE(r.is_null());
  EXPECT_EQ(r["write_cwd"], "allowed");
  EXPECT_EQ(r["write_tmp"], readOnly());
  EXPECT_EQ(r["read_secret"], hiddenFile());
  EXPECT_EQ(r["tcp"], "denied:EACCES");  // seccomp: no AF_INET sockets at all
  EXPECT_EQ(r["udp"], "denied:EACCES");
  EXPECT_EQ(r["inet6"], "denied:EACCES");
  EXPECT_EQ(r["mptcp"], "denied:EACCES");
  EXPECT_EQ(r["memory"], "denied:MemoryError");  // 256Mi address space
  EXPECT_EQ(r["nofile"], 64);
  // Its own user (root node) or Landlock's scope keeps it from the node; a PID namespace of its
  // function's hides the node altogether.
  if (process::sandboxLayers().root || process::sandboxLayers().landlock_abi >= 6) {
    EXPECT_EQ(r["signal_node"],
              process::sandboxLayers().namespaces ? "denied:ESRCH" : "denied:EPERM");
  }
  EXPECT_EQ(r["cwd_is_home"], true);
  const auto env_names = r["env"].get<std::vector<std::string>>();
  EXPECT_THAT(env_names, ::testing::Not(::testing::Contains("SIE_TEST_NODE_SECRET")));
  EXPECT_THAT(env_names, ::testing::Contains("SIE_FUNCTION"));
  // The manifest's env replaces a default of the same name rather than adding a second one.
  EXPECT_EQ(r["handler_env"], nlohmann::json::array({"_HANDLER=probe.handle"}));
  // 0-2, the channel, and the one listing /proc/self/fd.
  EXPECT_EQ(r["fds"].size(), 5U) << r["fds"].dump();
  if (geteuid() == 0) {
    EXPECT_GE(r["uid"].get<int>(), 70000);   // its own unprivileged user
    EXPECT_LT(r["uid"].get<int>(), 100000);  // below container runtimes' subordinate ids
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/sie-sandbox-escape"));
  // Where the node can make namespaces, a worker shares no IPC or UTS namespace with the host,
  // and no network where Landlock cannot scope its abstract Unix sockets.
  const auto& layers = process::sandboxLayers();
  if (layers.namespaces) {
    for (const char* ns : {"ipc", "uts", "mnt", "pid"}) {
      EXPECT_NE(r["ns"][ns], hostNamespace(ns)) << ns;
      EXPECT_NE(r["ns"][ns], "unreadable") << ns;
    }
    EXPECT_EQ(r["ns"]["net"] != hostNamespace("net"), layers.landlock_abi < 6);
  }
}

// Calls outside the allowlist kill the worker, named in the error.
TEST_F(SandboxTest, EscapesKillTheWorkerAndSayWhichCall) {
  expectKilledFor("fork", "clone");  // processes: 1
  expectKilledFor("clone_newuser", "clone");
  expectKilledFor("setsid", "setsid", ", processes: 8");
  expectKilledFor("clone_newuser", "clone", ", processes: 8");
}

TEST_F(SandboxTest, NetworkAndProcessesWhenTheManifestAllowsThem) {
  const nlohmann::json r = probe(process(", network: true, processes: 8, memory: 0"), env(8));
  ASSERT_FALSE(r.is_null());
  EXPECT_EQ(r["tcp"], "allowed");
  EXPECT_EQ(r["udp"], "allowed");
  EXPECT_EQ(r["fork"], "allowed");
  EXPECT_EQ(r["memory"], "allowed");
  EXPECT_EQ(r["read_secret"], hiddenFile());  // the filesystem stays confined
  if (process::sandboxLayers().namespaces) {  // the host's network, its own IPC
    EXPECT_EQ(r["ns"]["net"], hostNamespace("net"));
    EXPECT_NE(r["ns"]["ipc"], hostNamespace("ipc"));
  }
}

// A worker that may reach loopback ports (the node's Dapr endpoint) gets TCP only: MPTCP
// sockets, which Landlock's TCP port rules do not cover, are refused.
TEST_F(SandboxTest, MptcpCannotBypassThePortRules) {
  FunctionSpec spec = pythonWorker("probe", kProbe, process(), env());
  spec.timeout = kProbeTimeout;
  process::processBinding(spec)->loopback_ports.push_back(port_);  // as the node adds its Dapr port
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  auto out = instance->invoke(bearing(1, 1, 40, "probe/x").of(spec));
  ASSERT_TRUE(out) << out.error().str();
  const auto r = nlohmann::json::parse(out->decision->detail);
  EXPECT_EQ(r["tcp"], "allowed");
  EXPECT_EQ(r["mptcp"], "denied:EACCES");
}

TEST_F(SandboxTest, LambdaWorkersReachOnlyTheirRuntimeApi) {
  // AF_INET streams pass seccomp for the Lambda protocol; Landlock limits TCP to the runtime's
  // port and, where the node makes namespaces, the API is served in the function's own network,
  // so the test's listener on another port is out of reach while the API works.
  const std::string bootstrap = dir_.file("bootstrap");
  std::ofstream(bootstrap) << R"sh(#!/bin/bash
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  H="$(mktemp)"
  curl -sS -D "$H" "$API/invocation/next" >/dev/null
  ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$H" | tr -d '[:space:]' | cut -d: -f2)
  if curl -sS --max-time 2 "http://127.0.0.1:$PROBE_PORT/" >/dev/null 2>&1; then R=allowed; else R="denied:$?"; fi
  R="$R $(readlink /proc/self/ns/net)"
  curl -sS "$API/invocation/$ID/response" -d "{\"decision\":{\"detail\":\"$R\"}}" >/dev/null
done
)sh";
  chmod(bootstrap.c_str(), 0755);
  FunctionSpec spec =
      manifestText(dir_.file("lambda.yaml"),
                   "apiVersion: sie/v1\nkind: Function\n"
                   "metadata: {name: lam}\nspec:\n  runtime: process\n  handler: bootstrap\n"
                   "  triggers: [\"probe/#\"]\n  process: {protocol: lambda, processes: 16, env: "
                   "{PROBE_PORT: \"" +
                       std::to_string(port_) + "\"}}\n");
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  auto out = instance->invoke(bearing(1, 1).of(spec));
  ASSERT_TRUE(out) << out.error().str();
  EXPECT_THAT(out->decision->detail, ::testing::StartsWith("denied:7 "));  // could not connect
  if (process::sandboxLayers().namespaces) {  // its API served in a network of its own
    EXPECT_THAT(out->decision->detail, HasSubstr("net:["));
    EXPECT_THAT(out->decision->detail, Not(HasSubstr(hostNamespace("net"))));
  }
}

// Where the node uses cgroups, each worker has its own with the manifest's limits.
// `membership`: a process's /proc/self/cgroup, as the worker read it (its pid in the function's
// PID namespace means nothing outside).
std::string cgroupFile(const std::string& membership, const std::string& controller,
                       const std::string& file) {
  std::istringstream in(membership);
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const bool v2 = line.starts_with("0::") && controllers.empty();
    if (!v2 && ("," + controllers + ",").find("," + controller + ",") == std::string::npos) {
      continue;
    }
    for (const auto& mount : {"/sys/fs/cgroup/" + controller, std::string("/sys/fs/cgroup")}) {
      std::ifstream value(mount + line.substr(second + 1) + "/" + file);
      std::string text;
      if (std::getline(value, text)) return text;
    }
  }
  return "";
}

TEST_F(ProcessTest, EachWorkerHasACgroupWithTheManifestsLimits) {
  if (process::sandboxLayers().cgroups.empty()) GTEST_SKIP() << "no cgroups here";
  const bool v2 = process::sandboxLayers().cgroups.starts_with("cgroup v2");
  FunctionSpec spec = pythonWorker("limited", R"(
def handle(inv):
    return sie_worker.Decision(label=open("/proc/self/cgroup").read())
sie_worker.serve(handle))",
                                   "memory: 96Mi, processes: 3, cpus: 0.5");
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  auto out = instance->invoke(bearing(1, 1).of(spec));
  ASSERT_TRUE(out && out->decision) << (out ? "" : out.error().str());
  const std::string membership = out->decision->label;
  EXPECT_EQ(cgroupFile(membership, "memory", v2 ? "memory.max" : "memory.limit_in_bytes"),
            std::to_string(96 << 20));
  EXPECT_EQ(cgroupFile(membership, "pids", "pids.max"), "3");
  EXPECT_EQ(cgroupFile(membership, "cpu", v2 ? "cpu.max" : "cpu.cfs_quota_us"),
            v2 ? "50000 100000" : "50000");

  // A worker that may not fork may still run threads: no pids limit on it.
  FunctionSpec threads = pythonWorker("threads", R"(
import threading
def handle(inv):
    done = []
    workers = [threading.Thread(target=lambda: done.append(1)) for _ in range(8)]
    for t in workers: t.start()
    for t in workers: t.join()
    return sie_worker.Decision(label=str(len(done)), detail=open("/proc/self/cgroup").read())
sie_worker.serve(handle))");
  auto threaded = start(threads);
  ASSERT_TRUE(threaded);
  out = threaded->invoke(bearing(1, 1).of(threads));
  ASSERT_TRUE(out && out->decision) << (out ? "" : out.error().str());
  EXPECT_EQ(out->decision->label, "8");
  EXPECT_EQ(cgroupFile(out->decision->detail, "pids", "pids.max"), "max");
}

// RLIMIT_AS bounds each process: three children of 50 MiB each pass it, but together they are
// over the worker's 96 MiB, which its cgroup holds them to.
TEST_F(ProcessTest, AWorkersChildrenShareItsMemoryLimit) {
  if (process::sandboxLayers().cgroups.empty()) GTEST_SKIP() << "no cgroups here";
  FunctionSpec spec = pythonWorker("hungry", R"(
import signal, time
def handle(inv):
    pids = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            block = bytearray(50 << 20)
            time.sleep(1)
            os._exit(0)
        pids.append(pid)
    killed = 0
    for pid in pids:
        status = os.waitpid(pid, 0)[1]
        killed += os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return sie_worker.Decision(score=killed)
sie_worker.serve(handle))",
                                   "memory: 96Mi, processes: 4");
  spec.timeout = std::chrono::seconds(10);
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  auto out = instance->invoke(bearing(1, 1).of(spec));
  ASSERT_TRUE(out && out->decision) << (out ? "" : out.error().str());
  EXPECT_GE(out->decision->score, 1);  // the kernel killed at least one child
}

TEST_F(ProcessTest, AForkBombIsContainedAndKilledWithItsWorker) {
  FunctionSpec spec = pythonWorker("bomb", R"(
import subprocess, time
def handle(inv):
    subprocess.Popen(["/bin/bash", "-c", "b() { b | b & }; b"])
    time.sleep(60)
sie_worker.serve(handle))",
                                   "processes: 16, memory: 0");
  spec.timeout = std::chrono::milliseconds(1500);
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  auto out = instance->invoke(bearing(1, 1).of(spec));
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, Errc::kTimeout);
  instance.reset();
  // Everything the bomb started ran in the worker's process group: all gone.
  EXPECT_TRUE(testing::waitUntil([] { return std::system("pgrep -f 'b [|] b' >/dev/null") != 0; },
                                 std::chrono::seconds(5)));
}

// The launcher's network namespace (used where Landlock cannot scope abstract sockets): a
// loopback that is down and nothing else, so nothing is reachable, not even the host's loopback.
TEST(LauncherTest, MakesTheNamespacesItIsAskedFor) {
  if (!process::sandboxLayers().namespaces) GTEST_SKIP() << "the node cannot make namespaces here";
  const auto launch = [](const std::string& unshare, const std::string& command) {
    return testing::capture(
        fmt::format("{}/sie-launch --uid 70001 --gid 70001 {} --ro /usr --ro "
                    "/lib --ro /lib64 --ro /bin --ro /proc/self --ro /sys "
                    "--rw /dev/null -- /bin/sh -c '{}' 2>&1",
                    SIE_BINARY_DIR, unshare, command));
  };
  const std::string ns = "readlink /proc/self/ns/net /proc/self/ns/ipc /proc/self/ns/uts";
  const std::string host = launch("", ns);
  const std::string own = launch("--unshare ipc,uts,net", ns);
  ASSERT_THAT(host, HasSubstr("net:[")) << host;
  ASSERT_THAT(own, HasSubstr("net:[")) << own;
  for (std::size_t at = 0; at < host.size();) {
    const std::size_t end = host.find('\n', at);
    EXPECT_THAT(own, Not(HasSubstr(host.substr(at, end - at)))) << own;
    at = end + 1;
  }
  // Read by the shell itself: /proc/self is the launcher's own process, which exec'd it.
  const std::string interfaces =
      "{ read h; read h; while read i rest; do echo ${i%:}; done; } < /proc/self/net/dev";
  EXPECT_THAT(launch("", interfaces), HasSubstr("lo\n"));
  EXPECT_EQ(launch("--unshare ipc,uts,net", interfaces), "lo\n");
  EXPECT_THAT(launch("--unshare ipc,bogus", "true"), HasSubstr("unknown namespace 'bogus'"));
}

// A function's shared namespaces: made once, joined by each worker. Inside, the root holds the
// system folders and the workers' folder only, and the network has nothing but a loopback.
TEST(LauncherTest, WorkersJoinTheirFunctionsView) {
  if (!process::sandboxLayers().namespaces) GTEST_SKIP() << "the node cannot make namespaces here";
  TempDir workers;
  auto view = process::FunctionView::make({.launcher = SIE_BINARY_DIR "/sie-launch",
                                           .kinds = "mnt,net",
                                           .read_only = {"/usr", "/lib", "/lib64", "/bin", "/proc"},
                                           .writable = {"/dev/null"},
                                           .workers_folder = workers.path()});
  ASSERT_TRUE(view) << view.error().str();
  ASSERT_EQ((*view)->namespaces().size(), 2U);
  std::string joins;
  std::vector<int> inherited;
  for (const int fd : (*view)->namespaces()) {
    inherited.push_back(fcntl(fd, F_DUPFD, 10));  // without O_CLOEXEC, for the shell's child
    joins += fmt::format(" --join {}", inherited.back());
  }
  const std::string mine = workers.file("w-1");
  std::filesystem::create_directory(mine);
  chmod(workers.path().c_str(), 0755);
  chown(mine.c_str(), 70001, 70001);
  const std::string out = testing::capture(fmt::format(
      "{}/sie-launch --uid 70001 --gid 70001 --cwd {} {} --keep-fds {} --ro /usr --ro /lib "
      "--ro /lib64 --ro /bin --ro /proc/self --rw {} --rw /dev/null -- /bin/sh -c "
      "'ls -d /run /home /tmp/sie-* {} 2>&1; echo x > here && cat here; "
      "{{ read h; read h; while read i rest; do echo ${{i%:}}; done; }} < /proc/self/net/dev' 2>&1",
      SIE_BINARY_DIR, mine, joins, inherited.back() + 1, mine, workers.path()));
  for (const int fd : inherited) close(fd);
  EXPECT_THAT(out, HasSubstr("/run': No such file"));
  EXPECT_THAT(out, HasSubstr("/home': No such file"));
  EXPECT_THAT(out, HasSubstr(workers.path() + "\n"));    // its folder's parent is there
  EXPECT_THAT(out, HasSubstr("x\nlo\n"));                // writes its own folder; only a loopback
  EXPECT_TRUE(std::filesystem::exists(mine + "/here"));  // the host sees what it wrote
}

// A TCP listener on 127.0.0.1 (the host's network, or the one `listener` was made in) that
// greets each connection with `greeting` and a newline.
class Greeter {
 public:
  Greeter(int listener, std::string greeting) : fd_(listener), greeting_(std::move(greeting)) {
    sockaddr_in address{};
    socklen_t size = sizeof address;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      for (int client; (client = accept(fd_, nullptr, nullptr)) >= 0; close(client)) {
        const std::string line = greeting_ + "\n";
        (void)!write(client, line.data(), line.size());
      }
    });
  }
  static int onHostLoopback() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    listen(fd, 16);
    return fd;
  }
  ~Greeter() {
    shutdown(fd_, SHUT_RDWR);  // ends the blocked accept
    thread_.join();
    close(fd_);
  }
  [[nodiscard]] int port() const { return port_; }

 private:
  int fd_;
  std::string greeting_;
  int port_ = 0;
  std::thread thread_;
};

// Lambda and Dapr workers' own network: its loopback holds the APIs the node serves there (a
// socket made inside, as each Lambda instance's API is, and a relay to the node's Dapr port) and
// nothing else of the host. Landlock's port rules are off here (--network), so the namespace
// alone keeps the host's other ports out of reach, as on Debian 12's kernel.
TEST(LauncherTest, ApiWorkersReachOnlyTheNodesApisInTheirOwnNetwork) {
  if (!process::sandboxLayers().namespaces) GTEST_SKIP() << "the node cannot make namespaces here";
  TempDir workers;
  Greeter dapr(Greeter::onHostLoopback(), "dapr");
  Greeter other(Greeter::onHostLoopback(), "host");
  auto view = process::FunctionView::make({.launcher = SIE_BINARY_DIR "/sie-launch",
                                           .kinds = "mnt,net",
                                           .read_only = {"/usr", "/lib", "/lib64", "/bin", "/proc"},
                                           .writable = {"/dev/null"},
                                           .workers_folder = workers.path(),
                                           .loopback = true,
                                           .relayed_ports = {dapr.port()}});
  ASSERT_TRUE(view) << view.error().str();
  ASSERT_TRUE((*view)->ownNetwork());
  auto inside = (*view)->listen(0);
  ASSERT_TRUE(inside) << inside.error().str();
  Greeter lambda(*inside, "lambda");
  std::string joins;
  std::vector<int> inherited;
  for (const int fd : (*view)->namespaces()) {
    inherited.push_back(fcntl(fd, F_DUPFD, 10));
    joins += fmt::format(" --join {}", inherited.back());
  }
  const std::string reach =
      "exec 3<>/dev/tcp/127.0.0.1/{0} && read -r line <&3 && echo \"{0}:$line\" || echo "
      "{0}:refused";
  const std::string out = testing::capture(fmt::format(
      "{}/sie-launch --uid 70001 --gid 70001 --network {} --keep-fds {} --ro /usr --ro /lib "
      "--ro /lib64 --ro /bin --ro /proc/self --rw /dev/null -- /bin/bash -c '{}; {}; {}' 2>&1",
      SIE_BINARY_DIR, joins, inherited.back() + 1, fmt::format(fmt::runtime(reach), dapr.port()),
      fmt::format(fmt::runtime(reach), lambda.port()),
      fmt::format(fmt::runtime(reach), other.port())));
  for (const int fd : inherited) close(fd);
  EXPECT_THAT(out, HasSubstr(fmt::format("{}:dapr", dapr.port())));
  EXPECT_THAT(out, HasSubstr(fmt::format("{}:lambda", lambda.port())));
  EXPECT_THAT(out, HasSubstr(fmt::format("{}:refused", other.port())));
}

// The processes in the PID namespace whose link reads `link` ("pid:[4026532...]").
int processesIn(const std::string& link) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(entry.path() / "ns" / "pid", ec).string() == link) ++count;
  }
  return count;
}

// A view that cannot be made says why, and leaves nothing behind.
TEST(LauncherTest, AViewThatCannotBeMadeSaysWhy) {
  TempDir workers;
  process::FunctionView::Options options{.launcher = SIE_BINARY_DIR "/sie-launch",
                                         .kinds = "mnt,bogus",
                                         .read_only = {"/usr"},
                                         .writable = {"/dev/null"},
                                         .workers_folder = workers.path()};
  auto view = process::FunctionView::make(options);
  ASSERT_FALSE(view);
  EXPECT_THAT(view.error().str(), HasSubstr("unknown namespace 'bogus'"));
  options.launcher = workers.file("no-such-launcher");
  view = process::FunctionView::make(options);
  ASSERT_FALSE(view);
  EXPECT_THAT(view.error().str(), HasSubstr("no-such-launcher"));
  if (!process::sandboxLayers().namespaces) return;
  options.launcher = SIE_BINARY_DIR "/sie-launch";
  options.kinds = "pid";  // a PID namespace's /proc needs the view's mount namespace
  view = process::FunctionView::make(options);
  ASSERT_FALSE(view);
  EXPECT_THAT(view.error().str(), HasSubstr("--unshare pid needs mnt"));
}

// The views (PID namespace first processes) made for the function `id` that are running.
int viewsOf(const std::string& id) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), {});
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find("--make-view") != std::string::npos &&
        cmdline.find("/sie-workers/" + id + " ") != std::string::npos) {
      ++count;
    }
  }
  return count;
}

// A function removed from the node takes what its runtime prepared for it (its seccomp program,
// its namespaces and their first process) once its last worker is gone, and not before.
TEST_F(ProcessTest, ARetiredFunctionsViewGoesWithItsLastWorker) {
  if (!process::sandboxLayers().namespaces) GTEST_SKIP() << "the node cannot make namespaces here";
  const std::string name = fmt::format("retired-{}", getpid());  // apart from parallel tests'
  FunctionSpec spec = pythonWorker(name, R"(
def handle(inv):
    return sie_worker.Decision(label="served")
sie_worker.serve(handle))");
  auto instance = start(spec);
  ASSERT_TRUE(instance);
  EXPECT_EQ(viewsOf(spec.id()), 1);
  runtime_->retire(spec);
  auto out = instance->invoke(bearing(1, 1).of(spec));  // its worker still serves
  ASSERT_TRUE(out && out->decision) << (out ? "" : out.error().str());
  EXPECT_EQ(out->decision->label, "served");
  EXPECT_EQ(viewsOf(spec.id()), 1);
  instance.reset();
  EXPECT_TRUE(testing::waitUntil([&] { return viewsOf(spec.id()) == 0; }));
  auto again = start(spec);  // deployed again: prepared again
  ASSERT_TRUE(again);
  EXPECT_EQ(viewsOf(spec.id()), 1);
}

// A function's PID namespace lives as long as its view: dropping it ends the namespace's first
// process and, with it, everything its workers left there, whatever process group it is in.
TEST(LauncherTest, AFunctionsPidNamespaceEndsWithItsView) {
  if (!process::sandboxLayers().namespaces) GTEST_SKIP() << "the node cannot make namespaces here";
  TempDir workers;
  auto view = process::FunctionView::make({.launcher = SIE_BINARY_DIR "/sie-launch",
                                           .kinds = "mnt,pid",
                                           .read_only = {"/usr", "/lib", "/lib64", "/bin", "/proc"},
                                           .writable = {"/dev/null"},
                                           .workers_folder = workers.path()});
  ASSERT_TRUE(view) << view.error().str();
  ASSERT_GE((*view)->pidNamespace(), 0);
  ASSERT_EQ((*view)->namespaces().size(), 1U);  // the launcher joins the mount namespace only
  struct stat ns {};
  fstat((*view)->pidNamespace(), &ns);
  const std::string link = fmt::format("pid:[{}]", ns.st_ino);
  EXPECT_EQ(processesIn(link), 1);  // its first process
  pid_t straggler = -1;
  std::thread([&] {
    ASSERT_EQ(setns((*view)->pidNamespace(), CLONE_NEWPID), 0);
    straggler = fork();
    if (straggler == 0) {
      setsid();  // out of any group a kill would reach
      execl("/bin/sleep", "sleep", "30", nullptr);
      _exit(127);
    }
  }).join();
  ASSERT_GT(straggler, 0);
  EXPECT_TRUE(testing::waitUntil([&] { return processesIn(link) == 2; }));
  view->reset();
  int status = 0;
  ASSERT_EQ(waitpid(straggler, &status, 0), straggler);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_TRUE(testing::waitUntil([&] { return processesIn(link) == 0; }));
}

// sie-launch runs as root until it drops privileges: it has no dynamic loader that an
// LD_PRELOAD or LD_LIBRARY_PATH in the worker's environment could turn against it.
TEST(LauncherTest, IsStaticSoNoLoaderReadsTheWorkersEnvironment) {
  std::ifstream in(SIE_BINARY_DIR "/sie-launch", std::ios::binary);
  ASSERT_TRUE(in);
  Elf64_Ehdr header{};
  in.read(reinterpret_cast<char*>(&header), sizeof header);  // NOLINT: ELF bytes
  ASSERT_EQ(std::string_view(reinterpret_cast<const char*>(header.e_ident), 4), ELFMAG);
  for (int i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr program{};
    in.seekg(static_cast<std::streamoff>(header.e_phoff + i * header.e_phentsize));
    in.read(reinterpret_cast<char*>(&program), sizeof program);  // NOLINT: ELF bytes
    EXPECT_NE(program.p_type, static_cast<Elf64_Word>(PT_INTERP)) << "sie-launch names a loader";
    EXPECT_NE(program.p_type, static_cast<Elf64_Word>(PT_DYNAMIC)) << "sie-launch is dynamic";
  }
}

}  // namespace
}  // namespace sie
