#include "eval/scratch_node.h"

#include <filesystem>

#include "sie/clock.h"
#include "state/embedded_store.h"

namespace sie::node {

Result<std::unique_ptr<ScratchNode>> ScratchNode::open(const std::string& dir,
                                                       std::size_t memory_window) {
  std::unique_ptr<ScratchNode> node(new ScratchNode());
  node->dir_ = dir;
  state::EmbeddedOptions options;
  options.data_dir = dir;
  options.memory_window = memory_window;
  node->state_ = SIE_TRY(state::openEmbedded(options));
  node->actions_ = std::make_unique<Actions>(node->bus_, node->state_->audit(), systemClock(), 1);
  return node;
}

ScratchNode::~ScratchNode() {
  actions_.reset();
  state_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

}  // namespace sie::node
