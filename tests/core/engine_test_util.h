// Helpers for engine tests: virtual time, small configs, event filters.
#ifndef CCROUTE_TESTS_CORE_ENGINE_TEST_UTIL_H_
#define CCROUTE_TESTS_CORE_ENGINE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/core/engine.h"

namespace ccroute::core::testing {

using namespace std::chrono_literals;

inline Time At(Duration d) { return Time(d); }

inline QueueConfig MakeQueue(std::string name,
                             std::vector<SkillRequirement> reqs = {}) {
  QueueConfig q;
  q.name = std::move(name);
  q.requirements = std::move(reqs);
  return q;
}

inline AgentProfile MakeAgent(std::string id, std::vector<Skill> skills = {},
                              std::array<int, kChannelCount> capacity = {
                                  1, 0, 0, 0, 0}) {
  AgentProfile a;
  a.id = std::move(id);
  a.skills = std::move(skills);
  a.capacity = capacity;
  return a;
}

inline ContactRequest MakeContact(std::string id, std::string queue,
                                  int priority = 0,
                                  Channel channel = Channel::kVoice) {
  ContactRequest r;
  r.id = std::move(id);
  r.queue = std::move(queue);
  r.priority = priority;
  r.channel = channel;
  return r;
}

// An engine under virtual time that checks its invariants after every
// step a test takes through it.
class EngineHarness {
 public:
  explicit EngineHarness(RoutingPolicy policy = {}, EngineLimits limits = {})
      : engine_(limits, policy) {}

  Engine& engine() { return engine_; }
  Time now() const { return now_; }
  void Advance(Duration d) {
    now_ += d;
    engine_.AdvanceTo(now_);
    Check();
  }

  void AddQueue(const QueueConfig& q) {
    ASSERT_TRUE(engine_.UpsertQueue(q, now_).ok());
  }
  // Adds the agent, logs it in and makes it ready.
  void AddReadyAgent(const AgentProfile& a) {
    ASSERT_TRUE(engine_.UpsertAgentProfile(a, now_).ok());
    ASSERT_TRUE(engine_.Login(a.id, now_).ok());
    ASSERT_TRUE(engine_.SetReady(a.id, now_).ok());
    Check();
  }
  absl::StatusOr<ContactView> Create(const ContactRequest& r) {
    auto v = engine_.CreateContact(r, now_);
    Check();
    return v;
  }
  ContactView Get(const std::string& id) {
    auto v = engine_.GetContact(id, now_);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : ContactView{};
  }
  absl::Status Accept(const std::string& agent, const std::string& contact) {
    auto s = engine_.AcceptOffer(agent, contact, now_);
    Check();
    return s;
  }
  absl::Status Reject(const std::string& agent, const std::string& contact) {
    auto s = engine_.RejectOffer(agent, contact, now_);
    Check();
    return s;
  }
  absl::Status Complete(const std::string& agent, const std::string& contact,
                        const std::string& code = "done") {
    auto s = engine_.CompleteContact(agent, contact, code, now_);
    Check();
    return s;
  }
  // The agent the contact is offered or assigned to ("" if none).
  std::string AgentOf(const std::string& contact) {
    return Get(contact).agent_id;
  }
  ContactState StateOf(const std::string& contact) {
    return Get(contact).state;
  }

  // Events since the last call.
  std::vector<Event> TakeEvents() {
    std::vector<Event> out;
    engine_.TakeEvents(out);
    return out;
  }
  void Check() {
    auto s = engine_.CheckInvariants();
    ASSERT_TRUE(s.ok()) << s;
  }

 private:
  Engine engine_;
  Time now_ = At(1000s);
};

}  // namespace ccroute::core::testing

#endif  // CCROUTE_TESTS_CORE_ENGINE_TEST_UTIL_H_
