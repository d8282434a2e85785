#include "servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace sie::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "sie-test-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

// The kernel's ephemeral range: ports it hands to outgoing connections and to bind(0).
std::pair<int, int> ephemeralRange() {
  int low = 32768;
  int high = 60999;
  std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low >> high;
  return {low, high};
}

bool bindable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

// Drawn below the ephemeral range: a port bind(0) returned could be taken, between its release
// and the server's bind, by any outgoing connection on the machine (a parallel test's client).
// Handed-out ports are remembered so one process never gets the same port twice.
int freePort() {
  static std::mutex mutex;
  static std::set<int> given;
  static std::mt19937 random{std::random_device{}()};
  const std::lock_guard lock(mutex);
  const int high = std::min(ephemeralRange().first, 65536) - 1;
  const int low = std::min(10000, high / 2);
  std::uniform_int_distribution<int> pick(low, high);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = pick(random);
    if (!given.contains(port) && bindable(port)) {
      given.insert(port);
      return port;
    }
  }
  return -1;
}

bool waitForPort(int port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (up) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

pid_t spawnServer(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, argv[0], &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  return spawned == 0 ? pid : -1;
}

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return status < 0 ? -1 : WEXITSTATUS(status);
}

std::string capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return out;
  std::array<char, 4096> buffer{};
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
  ::pclose(pipe);
  return out;
}

Certificates Certificates::make(const std::string& dir) {
  Certificates c{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key", dir + "/client.pem",
                 dir + "/client.key"};
  const std::string quiet = " >/dev/null 2>&1";
  const std::string ext = dir + "/san.ext";
  std::ofstream(ext) << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  const bool made =
      run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "
          "/CN=sie-test-ca -keyout " +
          dir + "/ca.key -out " + c.ca + quiet) == 0 &&
      run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost "
          "-keyout " +
          c.server_key + " -out " + dir + "/server.csr" + quiet) == 0 &&
      run("openssl x509 -req -in " + dir + "/server.csr -CA " + c.ca + " -CAkey " + dir +
          "/ca.key -CAcreateserial -days 2 -extfile " + ext + " -out " + c.server_cert + quiet) ==
          0 &&
      run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=edge-node-1 "
          "-keyout " +
          c.client_key + " -out " + dir + "/client.csr" + quiet) == 0 &&
      run("openssl x509 -req -in " + dir + "/client.csr -CA " + c.ca + " -CAkey " + dir +
          "/ca.key -CAcreateserial -days 2 -out " + c.client_cert + quiet) == 0;
  if (!made) ADD_FAILURE() << "openssl could not make the test certificates";
  return c;
}

Mosquitto::Mosquitto(bool persistence)
    : certs_(Certificates::make(dir_.path())),
      port_(freePort()),
      tls_port_(freePort()),
      cert_port_(freePort()),
      auth_port_(freePort()) {
  // A broker started as root drops to the "mosquitto" user, which must read and write here.
  std::filesystem::permissions(dir_.path(), std::filesystem::perms::all);
  const std::string passwd = dir_.file("passwd");
  if (run("mosquitto_passwd -c -b " + passwd + " plant s3cret >/dev/null 2>&1") != 0) {
    ADD_FAILURE() << "mosquitto_passwd failed";
  }
  std::ofstream conf(dir_.file("mosquitto.conf"));
  conf << "per_listener_settings true\n"
       << "log_dest file " << dir_.file("broker.log") << "\n"
       << "max_queued_messages 100000\n"
       << "queue_qos0_messages true\n";  // offline test subscribers also get QoS 0
  if (persistence) {
    conf << "persistence true\npersistence_location " << dir_.path() << "/\n";
  }
  conf << "listener " << port_ << " 127.0.0.1\nallow_anonymous true\n"
       << "listener " << tls_port_ << " 127.0.0.1\nallow_anonymous true\n"
       << "cafile " << certs_.ca << "\ncertfile " << certs_.server_cert << "\nkeyfile "
       << certs_.server_key << "\n"
       << "listener " << cert_port_ << " 127.0.0.1\nallow_anonymous true\n"
       << "cafile " << certs_.ca << "\ncertfile " << certs_.server_cert << "\nkeyfile "
       << certs_.server_key << "\nrequire_certificate true\nuse_identity_as_username true\n"
       << "listener " << auth_port_ << " 127.0.0.1\nallow_anonymous false\npassword_file " << passwd
       << "\n";
  conf.close();
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    std::filesystem::permissions(
        entry.path(), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                          std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  }
  start();
}

Mosquitto::~Mosquitto() { kill(); }

void Mosquitto::start() {
  if (pid_ > 0) return;
  const std::string conf = dir_.file("mosquitto.conf");
  pid_ = spawnServer({"mosquitto", "-c", conf});
  if (pid_ <= 0) {
    ADD_FAILURE() << "cannot start mosquitto (is it installed? scripts/install-deps.sh)";
    return;
  }
  for (int port : {port_, tls_port_, cert_port_, auth_port_}) {
    if (!waitForPort(port)) {
      ADD_FAILURE() << "mosquitto did not listen on " << port << "; see "
                    << dir_.file("broker.log");
      return;
    }
  }
}

void Mosquitto::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void Mosquitto::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

RedisServer::RedisServer() : port_(freePort()) { start(); }

RedisServer::~RedisServer() { kill(); }

void RedisServer::start() {
  if (pid_ > 0) return;
  const std::string port = std::to_string(port_);
  const std::string log = dir_.file("redis.log");
  std::vector<std::string> args = {"redis-server",
                                   "--port",
                                   port,
                                   "--bind",
                                   "127.0.0.1",
                                   "--dir",
                                   dir_.path(),
                                   "--appendonly",
                                   "yes",
                                   "--appendfsync",
                                   "always",
                                   "--save",
                                   "",
                                   "--logfile",
                                   log};
  pid_ = spawnServer(args);
  if (pid_ <= 0) {
    ADD_FAILURE() << "cannot start redis-server (is it installed? scripts/install-deps.sh)";
    return;
  }
  if (!waitForPort(port_)) {
    ADD_FAILURE() << "redis-server did not listen on " << port_ << "; see " << log;
    return;
  }
  // Listening comes before the append-only file is loaded; PING answers only after.
  waitUntil([&] { return cli("PING") == "PONG"; }, std::chrono::seconds(10));
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string RedisServer::cli(const std::string& args) const {
  std::string out = capture("redis-cli -p " + std::to_string(port_) + " " + args + " 2>&1");
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace sie::testing
