// libFuzzer target: the input is read as the records a damaged journal could
// hold (each a length-prefixed protobuf Contact, ContactStatus or
// EndedContact, in any order, valid or not), decoded as recovery decodes
// them and restored into an engine with queues and agents. Nothing may
// crash, and the engine's invariants must hold afterwards.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "server/core/engine.h"
#include "server/journal/recovery.h"

namespace {

using namespace std::chrono_literals;
using ccroute::core::Engine;
using ccroute::core::Time;
namespace journal = ccroute::journal;

// Next chunk: a length byte, then that many bytes (fewer at the end).
bool NextChunk(const uint8_t*& data, size_t& size, std::string& out) {
  if (size == 0) return false;
  size_t n = data[0];
  data++;
  size--;
  n = std::min(n, size);
  out.assign(reinterpret_cast<const char*>(data), n);
  data += n;
  size -= n;
  return true;
}

void Configure(Engine& engine, Time now) {
  ccroute::core::QueueConfig sales;
  sales.name = "sales";
  sales.max_wait = 120s;
  sales.escalation = {{30s, {}, true}};
  ccroute::core::QueueConfig support;
  support.name = "support";
  support.requirements = {{"support", 3}};
  (void)engine.UpsertQueue(sales, now);
  (void)engine.UpsertQueue(support, now);
  for (const char* id : {"a1", "a2"}) {
    ccroute::core::AgentProfile a;
    a.id = id;
    a.skills = {{"support", 5}};
    a.capacity = {1, 2, 1, 1, 1};
    (void)engine.UpsertAgentProfile(a, now);
  }
  (void)engine.Login("a2", now);
  (void)engine.SetReady("a2", now);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const journal::WallTime wall_now =
      journal::WallTime(std::chrono::seconds(1'800'000'000));
  journal::RecoveredState state;
  std::string chunk;
  journal::JournaledContact pending;
  bool have_contact = false;
  while (state.contacts.size() + state.ended.size() < 512 &&
         NextChunk(data, size, chunk)) {
    if (chunk.empty()) continue;
    std::string_view value(chunk.data() + 1, chunk.size() - 1);
    switch (static_cast<uint8_t>(chunk[0]) % 3) {
      case 0:
        have_contact = pending.contact.ParseFromArray(
            value.data(), static_cast<int>(value.size()));
        break;
      case 1:
        if (have_contact && pending.status.ParseFromArray(
                                value.data(), static_cast<int>(value.size()))) {
          state.contacts.push_back(pending);
        } else {
          state.dropped_records++;
        }
        have_contact = false;
        break;
      case 2: {
        journal::EndedContact e;
        if (e.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          state.ended.push_back(std::move(e));
        } else {
          state.dropped_records++;
        }
        break;
      }
    }
  }
  Engine engine;
  Time now = Time(1000s);
  Configure(engine, now);
  journal::RecoveryReport report =
      journal::Restore(state, engine, now, wall_now, 10min);
  engine.AdvanceTo(now + 1h);
  absl::Status s = engine.CheckInvariants();
  if (!s.ok() || report.dropped_records < state.dropped_records) {
    std::fprintf(stderr, "journal_fuzz: %s\n", s.ToString().c_str());
    std::fflush(stderr);
    __builtin_trap();
  }
  return 0;
}
