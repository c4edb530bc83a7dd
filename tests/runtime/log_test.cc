#include "server/runtime/log.h"

#include <gtest/gtest.h>

namespace ccroute::runtime {
namespace {

TEST(LogTest, LineIsOneJsonObjectWithLevelEventAndFields) {
  std::string line = FormatLogLine(LogLevel::kWarning, "agent_login",
                                   {{"agent", "a1"}, {"session", 7}});
  EXPECT_EQ(line, R"({"level":"warning","event":"agent_login","agent":"a1",)"
                  R"("session":7})");
}

TEST(LogTest, ValuesAreEscapedSoALineStaysOneLine) {
  std::string line = FormatLogLine(
      LogLevel::kError, "grpc", {{"message", "bad \"quote\"\nnext\\line\x01"}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find(R"(bad \"quote\"\nnext\\line\u0001)"), std::string::npos)
      << line;
}

TEST(LogTest, ParsesLevelNames) {
  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevel("debug", level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_FALSE(ParseLogLevel("loud", level));
  EXPECT_EQ(level, LogLevel::kDebug);
}

}  // namespace
}  // namespace ccroute::runtime
