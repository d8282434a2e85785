// Real servers for integration tests, started on free loopback ports and stopped after: a
// mosquitto broker with plain, TLS, client-certificate and password listeners. Certificates are
// made with the openssl command line for each test program.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "wait_until.h"

namespace sie::testing {

// A fresh temporary folder, removed with the object.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A free TCP port on 127.0.0.1, outside the ephemeral range so no outgoing connection takes it
// before the server binds it.
int freePort();
// Waits until something accepts TCP connections on 127.0.0.1:port.
bool waitForPort(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
// Starts a server process found on PATH with its standard streams on /dev/null, so a server that
// outlives a crashed test does not hold ctest's output pipe open; returns its pid, or -1.
pid_t spawnServer(const std::vector<std::string>& args);
// Runs a shell command; returns its exit status (-1 when it could not run).
int run(const std::string& command);
// Runs a shell command and returns its standard output.
std::string capture(const std::string& command);

// A CA, a server certificate for 127.0.0.1/localhost and a client certificate, in `dir`.
struct Certificates {
  std::string ca, server_cert, server_key, client_cert, client_key;
  static Certificates make(const std::string& dir);
};

class Mosquitto {
 public:
  // Starts the broker; fails the calling test (ADD_FAILURE) when it does not come up.
  explicit Mosquitto(bool persistence = false);
  ~Mosquitto();
  Mosquitto(const Mosquitto&) = delete;
  Mosquitto& operator=(const Mosquitto&) = delete;

  void stop();   // SIGTERM and wait (a persistent broker saves its state)
  void kill();   // SIGKILL and wait
  void start();  // again, on the same ports
  [[nodiscard]] bool running() const { return pid_ > 0; }

  [[nodiscard]] int port() const { return port_; }           // plain, anonymous
  [[nodiscard]] int tlsPort() const { return tls_port_; }    // TLS, anonymous
  [[nodiscard]] int certPort() const { return cert_port_; }  // TLS, client certificate required
  [[nodiscard]] int authPort() const { return auth_port_; }  // plain, user "plant" / "s3cret"
  [[nodiscard]] const Certificates& certs() const { return certs_; }
  [[nodiscard]] const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  Certificates certs_;
  int port_, tls_port_, cert_port_, auth_port_;
  pid_t pid_ = -1;
};

// redis-server with append-only persistence fsynced on every write, so a SIGKILL loses nothing
// it acknowledged.
class RedisServer {
 public:
  RedisServer();  // fails the calling test (ADD_FAILURE) when it does not come up
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  void kill();   // SIGKILL and wait
  void start();  // again, on the same port and data
  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] int port() const { return port_; }
  // Runs redis-cli against the server; returns its output without the trailing newline.
  [[nodiscard]] std::string cli(const std::string& args) const;

 private:
  TempDir dir_;
  int port_;
  pid_t pid_ = -1;
};

}  // namespace sie::testing
