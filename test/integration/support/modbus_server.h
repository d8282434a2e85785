// A Modbus TCP device for tests (libmodbus server on a free loopback port) whose registers the
// test sets and reads, and which can die, come back, stop answering, or ignore writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

struct _modbus;
struct _modbus_mapping_t;

namespace sie::testing {

class ModbusServer {
 public:
  ModbusServer();
  ~ModbusServer();
  ModbusServer(const ModbusServer&) = delete;
  ModbusServer& operator=(const ModbusServer&) = delete;

  void start();  // listens on port() (the same port each time)
  void stop();   // closes every connection: the device is gone
  [[nodiscard]] int port() const { return port_; }

  // Runs `change` on the register map under the server's lock.
  void with(const std::function<void(_modbus_mapping_t&)>& change);
  // Silent: requests are read and never answered (a hung device).
  void setSilent(bool silent) { silent_ = silent; }
  // Writes are acknowledged but not applied (a device that rejects them quietly).
  void setIgnoreWrites(bool ignore) { ignore_writes_ = ignore; }
  [[nodiscard]] int connectionsAccepted() const { return accepted_; }
  // Requests received (answered or not).
  [[nodiscard]] int requestsReceived() const { return requests_; }

 private:
  void serve(int listener);

  int port_;
  _modbus* ctx_ = nullptr;
  _modbus_mapping_t* map_ = nullptr;
  std::mutex mu_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> silent_{false};
  std::atomic<bool> ignore_writes_{false};
  std::atomic<int> accepted_{0};
  std::atomic<int> requests_{0};
};

}  // namespace sie::testing
