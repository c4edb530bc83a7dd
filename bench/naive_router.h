// The baseline ccroute-bench compares the engine with: a router that makes
// the same decisions as ccroute's defaults (eligibility by skill levels,
// longest-idle agent; for a free agent, the waiting contact it may take
// with the highest priority, then service-level urgency wait / target, then
// arrival), found the way polling ACDs find them:
//
// - a contact that becomes routable scans every member of its queue, as
//   Asterisk's app_queue walks the queue's member list for each caller;
// - an agent that gains capacity ranks every waiting contact of the center,
//   as FreeSWITCH mod_callcenter's dispatch query ranks all waiting members
//   on each pass.
//
// It is event-driven like ccroute (it decides when called, not on a 100 ms
// or 1 s loop), so the benchmark compares the work per decision only.
// Scope: longest_idle agent selection, service-level contact selection, no
// wrap-up, escalation, timers, preferred agents or overflow; a declined
// contact is not offered again to the same agent for the policy's reoffer
// delay. Not thread-safe. Benchmark code only.
#ifndef CCROUTE_BENCH_NAIVE_ROUTER_H_
#define CCROUTE_BENCH_NAIVE_ROUTER_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/core/config.h"
#include "server/core/types.h"

namespace ccroute::bench {

class NaiveRouter {
 public:
  explicit NaiveRouter(core::RoutingPolicy policy);

  // Queues must all be added before the agents: membership is computed when
  // an agent is added (agents qualifying for the queue's base requirements).
  void AddQueue(const core::QueueConfig& queue);
  // Adds the agent READY and idle since `now`.
  void AddReadyAgent(const core::AgentProfile& agent, core::Time now);

  // Each returns false, changing nothing, when the ids or states do not
  // fit (unknown queue or agent, contact not offered to that agent, ...).
  bool CreateContact(const core::ContactRequest& request, core::Time now);
  bool AcceptOffer(std::string_view agent_id, std::string_view contact_id,
                   core::Time now);
  bool RejectOffer(std::string_view agent_id, std::string_view contact_id,
                   core::Time now);
  // Ends an assigned contact at once (no wrap-up); the agent takes the next.
  bool CompleteContact(std::string_view agent_id, std::string_view contact_id,
                       core::Time now);

  // Moves the offers made so far, as (contact id, agent id), to `out`.
  void TakeOffers(std::vector<std::pair<std::string, std::string>>& out);

  size_t waiting() const { return waiting_.size(); }

 private:
  using SkillLevels = std::vector<std::pair<uint32_t, int>>;  // sorted
  struct Queue {
    SkillLevels reqs;
    int64_t target_ns;
    std::vector<uint32_t> members;
  };
  struct Decline {
    uint32_t who;  // an agent (on a contact) or a contact (on an agent)
    uint64_t seq;  // the contact's sequence number
    int64_t until;
  };
  struct Agent {
    std::string id;
    SkillLevels skills;
    std::array<int, core::kChannelCount> capacity{};
    std::array<int, core::kChannelCount> load{};
    bool voice_blocks = true;
    int64_t idle_since = 0;
    int64_t offer = -1;  // contact index
    std::vector<Decline> declined;
  };
  enum class State : uint8_t { kWaiting, kOffered, kAssigned };
  struct Contact {
    std::string id;
    uint32_t queue;
    core::Channel channel;
    int priority;
    SkillLevels extra;
    int64_t arrival;
    uint64_t seq;
    State state;
    uint32_t agent;
    size_t waiting_slot;  // index in waiting_ while kWaiting
    std::vector<Decline> declined;
  };

  uint32_t Intern(const std::string& skill);
  SkillLevels InternAll(const std::vector<core::SkillRequirement>& reqs);
  static bool Satisfies(const SkillLevels& skills, const SkillLevels& reqs);
  bool Available(const Agent& a, core::Channel ch) const;
  void Wait(uint32_t contact);
  void StopWaiting(uint32_t contact);
  void Route(uint32_t contact);
  void Serve(uint32_t agent);
  void Offer(uint32_t contact, uint32_t agent);
  void FreeContact(uint32_t contact);
  int64_t FindOffered(std::string_view agent_id, std::string_view contact_id,
                      State state) const;

  core::RoutingPolicy policy_;
  int64_t now_ = 0;
  uint64_t next_seq_ = 1;
  absl::flat_hash_map<std::string, uint32_t> skill_ids_;
  absl::flat_hash_map<std::string, uint32_t> queue_by_name_;
  absl::flat_hash_map<std::string, uint32_t> agent_by_id_;
  absl::flat_hash_map<std::string, uint32_t> contact_by_id_;
  std::vector<Queue> queues_;
  std::vector<uint32_t> channels_;  // per queue, a bit per channel
  std::vector<Agent> agents_;
  std::vector<Contact> contacts_;
  std::vector<uint32_t> free_contacts_;
  std::vector<uint32_t> waiting_;  // every waiting contact, in no order
  std::vector<std::pair<std::string, std::string>> offers_;
};

}  // namespace ccroute::bench

#endif  // CCROUTE_BENCH_NAIVE_ROUTER_H_
