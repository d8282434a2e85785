#include "core/log.h"

#include <memory>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

namespace sie {
namespace {

// The node's logger, writing to a string for the test's length.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(LogTest, EveryLineNamesItsComponent) {
  const Log source("source", "field");
  const Log function("fn", "pump-health@2");
  source.info("connected to {}:{}", "plc1", 502);
  function.warn("{} failed", "attempt 1");
  function.debug("not kept at info: {}", 1);
  EXPECT_EQ(out_.str(),
            "info [source:field] connected to plc1:502\n"
            "warning [fn:pump-health@2] attempt 1 failed\n");
  EXPECT_EQ(function.prefix(), "[fn:pump-health@2]");
}

}  // namespace
}  // namespace sie
