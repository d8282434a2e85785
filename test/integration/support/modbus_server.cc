#include "modbus_server.h"

#include <sys/select.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <modbus.h>

#include "servers.h"

namespace sie::testing {

ModbusServer::ModbusServer() : port_(freePort()) {
  map_ = modbus_mapping_new(64, 64, 64, 64);
  start();
}

ModbusServer::~ModbusServer() {
  stop();
  modbus_mapping_free(map_);
}

void ModbusServer::start() {
  if (thread_.joinable()) return;
  ctx_ = modbus_new_tcp("127.0.0.1", port_);
  const int listener = modbus_tcp_listen(ctx_, 8);
  if (listener < 0) {
    ADD_FAILURE() << "modbus test server cannot listen on " << port_ << ": "
                  << modbus_strerror(errno);
    return;
  }
  stopping_ = false;
  thread_ = std::thread([this, listener] { serve(listener); });
}

void ModbusServer::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  thread_.join();
  modbus_free(ctx_);
  ctx_ = nullptr;
}

void ModbusServer::with(const std::function<void(_modbus_mapping_t&)>& change) {
  std::lock_guard lock(mu_);
  change(*map_);
}

void ModbusServer::serve(int listener) {
  fd_set all;
  FD_ZERO(&all);
  FD_SET(listener, &all);
  int max_fd = listener;
  std::vector<std::uint8_t> query(MODBUS_TCP_MAX_ADU_LENGTH);
  while (!stopping_) {
    fd_set ready = all;
    timeval tick{0, 20'000};
    if (select(max_fd + 1, &ready, nullptr, nullptr, &tick) <= 0) continue;
    for (int fd = 0; fd <= max_fd; ++fd) {
      if (!FD_ISSET(fd, &ready)) continue;
      if (fd == listener) {
        int server = listener;
        const int client = modbus_tcp_accept(ctx_, &server);
        if (client >= 0) {
          ++accepted_;
          FD_SET(client, &all);
          max_fd = std::max(max_fd, client);
        }
        continue;
      }
      modbus_set_socket(ctx_, fd);
      const int n = modbus_receive(ctx_, query.data());
      if (n == -1) {
        ::close(fd);
        FD_CLR(fd, &all);
        continue;
      }
      if (n > 0) ++requests_;
      if (n <= 0 || silent_) continue;
      std::lock_guard lock(mu_);
      std::vector<std::uint8_t> bits(map_->tab_bits, map_->tab_bits + map_->nb_bits);
      std::vector<std::uint16_t> registers(map_->tab_registers,
                                           map_->tab_registers + map_->nb_registers);
      modbus_reply(ctx_, query.data(), n, map_);
      if (ignore_writes_) {
        std::copy(bits.begin(), bits.end(), map_->tab_bits);
        std::copy(registers.begin(), registers.end(), map_->tab_registers);
      }
    }
  }
  for (int fd = 0; fd <= max_fd; ++fd) {
    if (FD_ISSET(fd, &all)) ::close(fd);
  }
}

}  // namespace sie::testing
