#include "server/core/config.h"

#include <gtest/gtest.h>

namespace ccroute::core {
namespace {

TEST(ConfigTest, RejectsQueueWithoutName) {
  QueueConfig q;
  auto s = ValidateQueueConfig(q, {});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("queue.name"), std::string::npos);
}

}  // namespace
}  // namespace ccroute::core
