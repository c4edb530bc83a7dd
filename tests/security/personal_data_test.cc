// Card-number detection, the logs' keyed hash, the per-client rate limiter,
// the role table and the record of which gateway owns a contact, without a
// server.
#include "server/api/personal_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/api/auth.h"
#include "server/api/rate_limiter.h"

namespace ccroute::api {
namespace {

using namespace std::chrono_literals;

TEST(CardNumberTest, RecognisesCardNumbersWrittenAsPeopleWriteThem) {
  for (const char* value :
       {"4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111",
        "378282246310005", "5555555555554444", "6011000990139424",
        "4222222222222",  // 13 digits
        "paid with 4111111111111111 yesterday", "x5555-5555-5555-4444x",
        "6304000000000000018"}) {  // 19 digits
    EXPECT_TRUE(HoldsCardNumber(value)) << value;
  }
}

TEST(CardNumberTest, LeavesOtherNumbersAlone) {
  for (const char* value :
       {"", "hello", "4111111111111112",  // fails the Luhn check
        "411111111117",                   // 12 digits, Luhn-valid
        "41111111111111111115",           // 20 digits, Luhn-valid
        "+8613912345677",                 // E.164, though Luhn-valid
        "+44 7911 123456", "2024-01-15", "order 12345", "4111  1111 1111 1111",
        "4111--1111-1111-1111"}) {  // doubled separators split the run
    EXPECT_FALSE(HoldsCardNumber(value)) << value;
  }
}

TEST(CardNumberTest, TheErrorNamesTheKeyNotTheValue) {
  absl::Status s = CheckNoCardNumbers(
      {{"lang", "de"}, {"note", "4111 1111 1111 1111"}, {"z", "1"}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  std::string message(s.message());
  EXPECT_THAT(message, ::testing::HasSubstr("contact.attributes['note']"));
  EXPECT_THAT(message, ::testing::Not(::testing::HasSubstr("4111")));
  EXPECT_TRUE(CheckNoCardNumbers({{"phone", "+15555550100"}}).ok());
}

TEST(LogHashTest, IsStableAndKeyed) {
  SetLogHashKey("a key of at least sixteen bytes");
  std::string h = LogHash("+15555550100");
  EXPECT_EQ(h.size(), 16u);
  EXPECT_EQ(h, LogHash("+15555550100"));
  EXPECT_NE(h, LogHash("+15555550101"));
  EXPECT_EQ(h.find("5555550100"), std::string::npos);
  SetLogHashKey("another key, also long enough");
  EXPECT_NE(h, LogHash("+15555550100"));
}

TEST(RateLimiterTest, BurstThenRefillPerClient) {
  RateLimiter limiter(2.0, 3);
  auto t0 = std::chrono::steady_clock::time_point(100s);
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("a", t0));
  EXPECT_FALSE(limiter.Allow("a", t0));
  EXPECT_TRUE(limiter.Allow("b", t0)) << "clients have their own buckets";
  EXPECT_TRUE(limiter.Allow("a", t0 + 500ms)) << "refilled at 2 per second";
  EXPECT_FALSE(limiter.Allow("a", t0 + 500ms));
  EXPECT_TRUE(limiter.Allow("a", t0 + 1h));
  EXPECT_TRUE(limiter.Allow("a", t0 + 1h));
  EXPECT_TRUE(limiter.Allow("a", t0 + 1h));
  EXPECT_FALSE(limiter.Allow("a", t0 + 1h)) << "never more than the burst";
}

TEST(RateLimiterTest, ZeroRateIsUnlimited) {
  RateLimiter limiter(0, 0);
  EXPECT_FALSE(limiter.limited());
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.Allow("a"));
}

TEST(RoleTableTest, DeniesWhatItDoesNotList) {
  EXPECT_EQ(RolesAllowed("/ccroute.v1.Contacts/NoSuchMethod"), 0);
  EXPECT_EQ(RolesAllowed("/grpc.health.v1.Health/Check"), 0);
  EXPECT_EQ(RolesAllowed(method::kConnect), static_cast<uint8_t>(Role::kAgent));
  EXPECT_EQ(RolesAllowed(method::kSetRoutingPolicy),
            static_cast<uint8_t>(Role::kAdmin));
  for (const char* name : {"gateway", "agent", "supervisor", "admin"}) {
    auto role = ParseRole(name);
    ASSERT_TRUE(role.has_value()) << name;
    EXPECT_EQ(RoleName(*role), name);
  }
  EXPECT_FALSE(ParseRole("root").has_value());
}

}  // namespace
}  // namespace ccroute::api
