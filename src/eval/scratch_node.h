// What an evaluation runs functions on: a scratch embedded state store in a folder of its own
// (removed with it), a bus nobody listens to, and the actions that publish on it.
#pragma once

#include <memory>
#include <string>

#include "runtime/actions.h"
#include "runtime/local_bus.h"
#include "sie/state.h"

namespace sie::node {

class ScratchNode {
 public:
  static Result<std::unique_ptr<ScratchNode>> open(const std::string& dir,
                                                   std::size_t memory_window);
  ~ScratchNode();
  ScratchNode(const ScratchNode&) = delete;
  ScratchNode& operator=(const ScratchNode&) = delete;

  StateStore& state() { return *state_; }
  Actions& actions() { return *actions_; }

 private:
  ScratchNode() = default;
  std::string dir_;
  std::unique_ptr<StateStore> state_;
  LocalBus bus_;
  std::unique_ptr<Actions> actions_;
};

}  // namespace sie::node
