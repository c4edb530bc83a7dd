// libFuzzer target: the input bytes choose the operations EngineDriver
// applies to an engine; any invariant violation or model mismatch prints
// the failure and the last operations, then traps.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "tests/core/engine_driver.h"

namespace {

constexpr int kMaxOps = 4000;

void Crash(const ccroute::core::testing::EngineDriver& driver,
           const absl::Status& s) {
  std::fprintf(stderr, "engine_fuzz: operation #%d failed:\n%s\n",
               driver.op_index(), s.ToString().c_str());
  std::fprintf(stderr, "last operations:\n%s", driver.RecentOps().c_str());
  std::fflush(stderr);
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ccroute::core::testing::ByteOpSource source(data, size);
  ccroute::core::testing::EngineDriver driver(source);
  absl::Status s = driver.Setup();
  for (int i = 0; s.ok() && i < kMaxOps && !source.exhausted(); ++i) {
    s = driver.Step();
  }
  if (s.ok()) s = driver.Finish();
  if (!s.ok()) Crash(driver, s);
  return 0;
}
