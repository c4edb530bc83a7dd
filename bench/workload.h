// The contact center that ccroute-bench routes: queues, agent profiles and a
// stream of contact requests at a given scale, all drawn from one seed so
// that ccroute and the naive baseline see the same center. Plain values;
// a Workload is immutable after construction and safe to share.
//
// Agents hold 3-15 skills at levels 1-10 (product skills, one per queue, and
// 1-2 languages); a queue needs its product skill and sometimes a language;
// contacts come on voice, chat and email with mixed priorities, and some
// ask for a language at level 5 (one that some agent there speaks so well)
// on top of the queue's requirements.
#ifndef CCROUTE_BENCH_WORKLOAD_H_
#define CCROUTE_BENCH_WORKLOAD_H_

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "server/core/config.h"

namespace ccroute::bench {

struct Scale {
  std::string name;  // "S", "M", "L" or "custom"
  int agents = 0;
  int queues = 0;
  int waiting = 0;  // contacts kept waiting while agents are busy
};

// The three scales: S (100 agents, 10 queues, 1,000 waiting),
// M (1,000 / 100 / 10,000) and L (10,000 / 500 / 100,000). nullopt for any
// other name.
std::optional<Scale> ScaleByName(std::string_view name);

class Workload {
 public:
  Workload(const Scale& scale, uint64_t seed);

  const Scale& scale() const { return scale_; }
  const std::vector<core::QueueConfig>& queues() const { return queues_; }
  const std::vector<core::AgentProfile>& agents() const { return agents_; }
  // Long offer timeouts and reoffer delays: the benchmark answers every
  // offer itself, so no timer fires during a run and both routers decide
  // only when called.
  core::RoutingPolicy policy() const;

  // A new contact "c<number>" for a random queue, channel and priority.
  // Fills `out` in place, reusing its strings.
  void NextContact(std::mt19937_64& rng, int64_t number,
                   core::ContactRequest& out) const;
  // A contact that waits whatever happens: it asks for a language no agent
  // speaks. Used to keep the queues full while agents sit idle.
  void BacklogContact(std::mt19937_64& rng, int64_t number,
                      core::ContactRequest& out) const;

  // "c<number>" and "a<number>", and back (-1 for anything else).
  static std::string ContactId(int64_t number);
  static std::string AgentId(int number);
  static int64_t ParseNumber(std::string_view id);

 private:
  Scale scale_;
  std::vector<core::QueueConfig> queues_;
  std::vector<core::AgentProfile> agents_;
  // Contacts come to (queue, channel) in proportion to the agents who can
  // take them there, as a workforce plan would staff it.
  struct Destination {
    int queue;
    core::Channel channel;
    std::vector<int> languages;  // spoken there at the level contacts ask
  };
  std::vector<Destination> destinations_;
  mutable std::discrete_distribution<int> pick_destination_;
};

}  // namespace ccroute::bench

#endif  // CCROUTE_BENCH_WORKLOAD_H_
