// Randomized property test: many seeds, each a long random sequence of
// operations through EngineDriver, which checks the engine's invariants and
// its events after every operation. A failure prints the seed, the
// operation and the operations before it. Replay one seed with
//   CCROUTE_PROPERTY_SEED_START=<seed> CCROUTE_PROPERTY_SEEDS=1
//   core_tests --gtest_filter='EnginePropertyTest.*'
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "tests/core/engine_driver.h"

namespace ccroute::core {
namespace {

using testing::EngineDriver;
using testing::RandomOpSource;

constexpr uint64_t kDefaultSeeds = 300;
constexpr uint64_t kDefaultSeedStart = 1;
constexpr int kOpsPerSeed = 1500;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

TEST(EnginePropertyTest, InvariantsHoldUnderRandomOperations) {
  const uint64_t seeds = EnvOr("CCROUTE_PROPERTY_SEEDS", kDefaultSeeds);
  const uint64_t start =
      EnvOr("CCROUTE_PROPERTY_SEED_START", kDefaultSeedStart);
  int64_t contacts = 0;
  std::map<std::string, int64_t> counts;
  for (uint64_t seed = start; seed < start + seeds; ++seed) {
    RandomOpSource source(seed);
    EngineDriver driver(source);
    absl::Status s = driver.Setup();
    for (int i = 0; s.ok() && i < kOpsPerSeed; ++i) s = driver.Step();
    if (s.ok()) s = driver.Finish();
    ASSERT_TRUE(s.ok()) << "seed " << seed << ", operation #"
                        << driver.op_index() << " failed:\n"
                        << s.message() << "\nlast operations:\n"
                        << driver.RecentOps()
                        << "replay: CCROUTE_PROPERTY_SEED_START=" << seed
                        << " CCROUTE_PROPERTY_SEEDS=1";
    contacts += driver.created();
    for (const auto& [k, v] : driver.counts()) counts[k] += v;
  }
  if (std::getenv("CCROUTE_PROPERTY_VERBOSE") != nullptr) {
    for (const auto& [k, v] : counts)
      std::printf("%-28s %lld\n", k.c_str(), static_cast<long long>(v));
  }
  // Guards against a driver that stopped creating work.
  EXPECT_GT(contacts, static_cast<int64_t>(seeds) * 50);
}

}  // namespace
}  // namespace ccroute::core
