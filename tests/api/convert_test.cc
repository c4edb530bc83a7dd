#include "server/api/convert.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>

namespace ccroute::core {

// Field-by-field equality for the round-trip tests (the core structs have
// none of their own).
bool operator==(const EscalationStep& a, const EscalationStep& b) {
  return std::tie(a.after, a.requirements, a.drop_contact_requirements) ==
         std::tie(b.after, b.requirements, b.drop_contact_requirements);
}
bool operator==(const QueueConfig& a, const QueueConfig& b) {
  auto tie = [](const QueueConfig& q) {
    return std::tie(q.name, q.channels, q.service_level_target,
                    q.service_level_goal, q.requirements, q.escalation,
                    q.max_waiting, q.overflow_queue, q.max_wait,
                    q.max_wait_queue, q.agent_selection, q.offer_timeout,
                    q.last_agent_window, q.default_handle_time);
  };
  return tie(a) == tie(b);
}
bool operator==(const AgentProfile& a, const AgentProfile& b) {
  return std::tie(a.id, a.skills, a.capacity, a.voice_blocks_other_channels,
                  a.wrap_up) == std::tie(b.id, b.skills, b.capacity,
                                         b.voice_blocks_other_channels,
                                         b.wrap_up);
}
bool operator==(const RoutingPolicy& a, const RoutingPolicy& b) {
  return std::tie(a.contact_selection, a.max_missed_offers, a.reoffer_delay) ==
         std::tie(b.contact_selection, b.max_missed_offers, b.reoffer_delay);
}

}  // namespace ccroute::core

namespace ccroute::api {
namespace {

using namespace std::chrono_literals;

std::string Message(const absl::Status& status) {
  return std::string(status.message().data(), status.message().size());
}

// Engine time 1000 s is 2024-01-01T00:00:00Z.
constexpr int64_t kWallSeconds = 1'704'067'200;
TimeMapper TestClock() {
  return TimeMapper(core::Time(1000s), std::chrono::system_clock::time_point(
                                           std::chrono::seconds(kWallSeconds)));
}

core::QueueConfig FullQueue() {
  core::QueueConfig q;
  q.name = "support";
  q.channels = (1u << static_cast<int>(core::Channel::kChat)) |
               (1u << static_cast<int>(core::Channel::kEmail));
  q.service_level_target = 45s;
  q.service_level_goal = 0.9;
  q.requirements = {{"support", 5}, {"language.de", 3}};
  q.escalation = {{30s, {{"support", 3}}, false},
                  {90s, {{"support", 1}}, true}};
  q.max_waiting = 100;
  q.overflow_queue = "general";
  q.max_wait = 600s;
  q.max_wait_queue = "callbacks";
  q.agent_selection = core::AgentSelection::kMostSkilled;
  q.offer_timeout = 12500ms;
  q.last_agent_window = 40s;
  q.default_handle_time = 240s;
  return q;
}

core::AgentProfile FullAgent() {
  core::AgentProfile a;
  a.id = "alice";
  a.skills = {{"sales", 8}, {"support", 2}};
  a.capacity = {1, 3, 5, 1, 2};
  a.voice_blocks_other_channels = false;
  a.wrap_up = {20s, 10s, 1500ms, 0s, 5s};
  return a;
}

TEST(ConvertTest, QueueConfigRoundTrips) {
  core::QueueConfig q = FullQueue();
  auto back = FromProto(ToProto(q));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, q);
  EXPECT_TRUE(core::ValidateQueueConfig(*back, {}).ok());
}

TEST(ConvertTest, DefaultQueueConfigRoundTrips) {
  core::QueueConfig q;
  q.name = "general";
  auto back = FromProto(ToProto(q));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, q);
}

TEST(ConvertTest, QueueListsItsChannelsExplicitly) {
  core::QueueConfig q = FullQueue();
  v1::Queue p = ToProto(q);
  ASSERT_EQ(p.channels_size(), 2);
  EXPECT_EQ(p.channels(0), v1::CHANNEL_CHAT);
  EXPECT_EQ(p.channels(1), v1::CHANNEL_EMAIL);
  EXPECT_EQ(p.agent_selection(), "most_skilled");
}

TEST(ConvertTest, AgentProfileRoundTrips) {
  core::AgentProfile a = FullAgent();
  auto back = FromProto(ToProto(a));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, a);

  core::AgentProfile plain;
  plain.id = "bob";
  auto plain_back = FromProto(ToProto(plain));
  ASSERT_TRUE(plain_back.ok()) << plain_back.status();
  EXPECT_EQ(*plain_back, plain);
}

TEST(ConvertTest, RoutingPolicyRoundTrips) {
  core::RoutingPolicy p;
  p.contact_selection = core::ContactSelection::kFifo;
  p.max_missed_offers = 0;
  p.reoffer_delay = 2500ms;
  auto back = FromProto(ToProto(p));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, p);

  auto defaults = FromProto(ToProto(core::RoutingPolicy{}));
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(*defaults, core::RoutingPolicy{});
}

TEST(ConvertTest, UnsetQueueFieldsTakeTheDocumentedDefaults) {
  v1::Queue p;
  p.set_name("general");
  auto q = FromProto(p);
  ASSERT_TRUE(q.ok()) << q.status();
  core::QueueConfig expected;
  expected.name = "general";
  EXPECT_EQ(*q, expected);
  EXPECT_EQ(q->channels, (1u << core::kChannelCount) - 1);  // all
  EXPECT_EQ(q->service_level_target, 20s);
  EXPECT_DOUBLE_EQ(q->service_level_goal, 0.8);
  EXPECT_EQ(q->max_wait, 0s);  // unlimited
  EXPECT_EQ(q->agent_selection, core::AgentSelection::kLongestIdle);
  EXPECT_EQ(q->offer_timeout, 15s);
  EXPECT_EQ(q->default_handle_time, 180s);
}

TEST(ConvertTest, UnsetSkillLevelsReadAsOne) {
  v1::Queue p;
  p.set_name("sales");
  p.add_requirements()->set_skill("sales");
  v1::AgentProfile a;
  a.set_id("alice");
  a.add_skills()->set_name("sales");
  auto q = FromProto(p);
  auto agent = FromProto(a);
  ASSERT_TRUE(q.ok() && agent.ok());
  EXPECT_EQ(q->requirements[0].min_level, 1);
  EXPECT_EQ(agent->skills[0].level, 1);
}

TEST(ConvertTest, UnsetAgentFieldsTakeTheDocumentedDefaults) {
  v1::AgentProfile p;
  p.set_id("alice");
  auto a = FromProto(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->capacity, (std::array<int, core::kChannelCount>{1, 0, 0, 0, 0}));
  EXPECT_TRUE(a->voice_blocks_other_channels);
  for (core::Duration d : a->wrap_up) EXPECT_EQ(d, 0s);
}

TEST(ConvertTest, GivenCapacityReplacesTheDefaultWhole) {
  v1::AgentProfile p;
  p.set_id("carol");
  p.mutable_capacity()->set_chat(3);
  p.set_voice_blocks_other_channels(false);
  p.mutable_wrap_up()->mutable_chat()->set_seconds(10);
  auto a = FromProto(p);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->capacity, (std::array<int, core::kChannelCount>{0, 3, 0, 0, 0}));
  EXPECT_FALSE(a->voice_blocks_other_channels);
  EXPECT_EQ(a->wrap_up[1], 10s);
}

TEST(ConvertTest, UnsetRoutingPolicyFieldsTakeTheDocumentedDefaults) {
  auto p = FromProto(v1::RoutingPolicy{});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->contact_selection, core::ContactSelection::kServiceLevel);
  EXPECT_EQ(p->max_missed_offers, 3);
  EXPECT_EQ(p->reoffer_delay, 30s);

  v1::RoutingPolicy never;
  never.set_max_missed_offers(0);
  auto q = FromProto(never);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->max_missed_offers, 0);
}

TEST(ConvertTest, UnknownChannelNamesTheField) {
  v1::CreateContactRequest r;
  r.set_contact_id("c1");
  r.set_queue("sales");
  r.set_channel(static_cast<v1::Channel>(17));
  auto c = FromProto(r, TestClock());
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(c.status()), "contact.channel: unknown channel 17");
}

TEST(ConvertTest, UnspecifiedChannelReadsAsVoice) {
  auto c = FromProto(v1::CHANNEL_UNSPECIFIED, "x");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c, core::Channel::kVoice);
  for (auto [p, k] : {std::pair{v1::CHANNEL_CHAT, core::Channel::kChat},
                      {v1::CHANNEL_EMAIL, core::Channel::kEmail},
                      {v1::CHANNEL_CALLBACK, core::Channel::kCallback},
                      {v1::CHANNEL_TASK, core::Channel::kTask}}) {
    EXPECT_EQ(*FromProto(p, "x"), k);
    EXPECT_EQ(ToProto(k), p);
  }
}

TEST(ConvertTest, QueueChannelErrorsNameTheListEntry) {
  v1::Queue p;
  p.set_name("sales");
  p.add_channels(v1::CHANNEL_VOICE);
  p.add_channels(static_cast<v1::Channel>(9));
  auto q = FromProto(p);
  ASSERT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(q.status()), "queue.channels[1]: unknown channel 9");

  p.set_channels(1, v1::CHANNEL_UNSPECIFIED);
  q = FromProto(p);
  ASSERT_FALSE(q.ok());
  EXPECT_NE(Message(q.status()).find("queue.channels[1]"), std::string::npos);
}

TEST(ConvertTest, EveryAgentSelectionRoundTrips) {
  for (int i = 0; i < core::kAgentSelectionCount; ++i) {
    core::QueueConfig q;
    q.name = "sales";
    q.agent_selection = static_cast<core::AgentSelection>(i);
    v1::Queue p = ToProto(q);
    EXPECT_EQ(p.agent_selection(), core::AgentSelectionName(q.agent_selection));
    auto back = FromProto(p);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->agent_selection, q.agent_selection);
  }
  v1::Queue p;
  p.set_name("sales");
  p.set_agent_selection("preserve_coverage");
  auto q = FromProto(p);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->agent_selection, core::AgentSelection::kPreserveCoverage);
}

TEST(ConvertTest, UnknownSelectionNamesAreInvalid) {
  v1::Queue q;
  q.set_name("sales");
  q.set_agent_selection("random");
  auto queue = FromProto(q);
  ASSERT_EQ(queue.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(queue.status()).find("queue.agent_selection"),
            std::string::npos);
  EXPECT_NE(Message(queue.status()).find("'random'"), std::string::npos);

  v1::RoutingPolicy p;
  p.set_contact_selection("lifo");
  auto policy = FromProto(p);
  ASSERT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(policy.status()).find("routing.contact_selection"),
            std::string::npos);
}

TEST(ConvertTest, DurationsOutOfTheCoreRangeAreInvalid) {
  v1::Queue q;
  q.set_name("sales");
  q.mutable_offer_timeout()->set_seconds(315'576'000'000);  // 10000 years
  auto queue = FromProto(q);
  ASSERT_EQ(queue.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(queue.status()).find("queue.offer_timeout"),
            std::string::npos);

  v1::AgentProfile a;
  a.set_id("alice");
  a.mutable_wrap_up()->mutable_email()->set_seconds(-315'576'000'000);
  auto agent = FromProto(a);
  ASSERT_FALSE(agent.ok());
  EXPECT_NE(Message(agent.status()).find("agent.wrap_up.email"),
            std::string::npos);

  google::protobuf::Duration bad_nanos;
  bad_nanos.set_seconds(1);
  bad_nanos.set_nanos(-5);
  EXPECT_FALSE(FromProto(bad_nanos, "d").ok());
}

TEST(ConvertTest, NegativeDurationsAreLeftToTheCoreValidators) {
  v1::Queue q;
  q.set_name("sales");
  q.mutable_max_wait()->set_seconds(-5);
  auto queue = FromProto(q);
  ASSERT_TRUE(queue.ok()) << queue.status();
  EXPECT_EQ(queue->max_wait, -5s);
  absl::Status s = core::ValidateQueueConfig(*queue, {});
  EXPECT_EQ(Message(s), "queue.max_wait: is negative");
}

TEST(ConvertTest, ExplicitZeroIsNotUnset) {
  v1::Queue q;
  q.set_name("sales");
  q.mutable_service_level_target();  // 0s, present
  auto queue = FromProto(q);
  ASSERT_TRUE(queue.ok());
  EXPECT_EQ(queue->service_level_target, 0s);
  EXPECT_EQ(Message(core::ValidateQueueConfig(*queue, {})),
            "queue.service_level_target: must be positive");
}

TEST(ConvertTest, DurationsConvertBothWays) {
  google::protobuf::Duration d;
  ToProto(-1500ms, &d);
  EXPECT_EQ(d.seconds(), -1);
  EXPECT_EQ(d.nanos(), -500'000'000);
  EXPECT_EQ(FromProto(d), -1500ms);
  ToProto(20s + 1ns, &d);
  EXPECT_EQ(d.seconds(), 20);
  EXPECT_EQ(d.nanos(), 1);
  EXPECT_EQ(*FromProto(d, "d"), 20s + 1ns);
  d.set_seconds(400'000'000'000);
  d.set_nanos(0);
  EXPECT_EQ(FromProto(d), core::Duration::max());  // saturates
}

TEST(ConvertTest, TimeMapperRoundTrips) {
  TimeMapper clock = TestClock();
  EXPECT_EQ(clock.ToWall(core::Time(1000s)).time_since_epoch(),
            std::chrono::seconds(kWallSeconds));
  core::Time t = core::Time(1234s + 567ms + 89ns);
  EXPECT_EQ(clock.FromWall(clock.ToWall(t)), t);

  google::protobuf::Timestamp ts;
  ToProto(t, clock, &ts);
  EXPECT_EQ(ts.seconds(), kWallSeconds + 234);
  EXPECT_EQ(ts.nanos(), 567'000'089);
  auto back = FromProto(ts, clock, "at");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, t);
}

TEST(ConvertTest, TimestampsBeforeTheEpochKeepNanosPositive) {
  TimeMapper clock(core::Time(0s), std::chrono::system_clock::time_point{});
  google::protobuf::Timestamp ts;
  ToProto(core::Time(-1500ms), clock, &ts);
  EXPECT_EQ(ts.seconds(), -2);
  EXPECT_EQ(ts.nanos(), 500'000'000);
  EXPECT_EQ(*FromProto(ts, clock, "at"), core::Time(-1500ms));
}

TEST(ConvertTest, TimestampsOutOfRangeAreInvalid) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(253'402'300'799);  // 9999-12-31
  auto t = FromProto(ts, TestClock(), "contact.not_before");
  ASSERT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(Message(t.status()).find("contact.not_before"), std::string::npos);
  ts.set_seconds(0);
  ts.set_nanos(-1);
  EXPECT_FALSE(FromProto(ts, TestClock(), "x").ok());
}

TEST(ConvertTest, CreateContactRequestConverts) {
  TimeMapper clock = TestClock();
  v1::CreateContactRequest r;
  r.set_contact_id("c1");
  r.set_queue("sales");
  r.set_channel(v1::CHANNEL_CHAT);
  r.set_priority(7);
  auto* req = r.add_requirements();
  req->set_skill("language.de");
  req->set_min_level(5);
  r.set_customer_id("cust-9");
  r.set_preferred_agent("alice");
  r.mutable_preferred_wait()->set_seconds(20);
  (*r.mutable_attributes())["zeta"] = "1";
  (*r.mutable_attributes())["alpha"] = "2";
  r.mutable_not_before()->set_seconds(kWallSeconds + 60);
  auto c = FromProto(r, clock);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->id, "c1");
  EXPECT_EQ(c->queue, "sales");
  EXPECT_EQ(c->channel, core::Channel::kChat);
  EXPECT_EQ(c->priority, 7);
  ASSERT_EQ(c->requirements.size(), 1u);
  EXPECT_EQ(c->requirements[0], (core::SkillRequirement{"language.de", 5}));
  EXPECT_EQ(c->customer_id, "cust-9");
  EXPECT_EQ(c->preferred_agent, "alice");
  EXPECT_EQ(c->preferred_wait, 20s);
  ASSERT_EQ(c->attributes.size(), 2u);
  EXPECT_EQ(c->attributes[0].first, "alpha");  // sorted by key
  EXPECT_EQ(c->attributes[1].first, "zeta");
  ASSERT_TRUE(c->not_before.has_value());
  EXPECT_EQ(*c->not_before, core::Time(1060s));
  EXPECT_TRUE(core::ValidateContactRequest(*c, {}).ok());
}

TEST(ConvertTest, NegativePriorityIsLeftToTheCoreValidator) {
  v1::CreateContactRequest r;
  r.set_contact_id("c1");
  r.set_queue("sales");
  r.set_priority(-1);
  auto c = FromProto(r, TestClock());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->channel, core::Channel::kVoice);
  EXPECT_FALSE(c->not_before.has_value());
  EXPECT_EQ(Message(core::ValidateContactRequest(*c, {})),
            "contact.priority: -1 is not in 0..1000");
}

TEST(ConvertTest, ScheduleCallbackIsACallbackContact) {
  v1::ScheduleCallbackRequest r;
  r.set_contact_id("cb1");
  r.set_queue("callbacks");
  r.mutable_not_before()->set_seconds(kWallSeconds + 3600);
  auto c = FromProto(r, TestClock());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->channel, core::Channel::kCallback);
  EXPECT_EQ(*c->not_before, core::Time(4600s));

  r.mutable_preferred_wait()->set_seconds(-400'000'000'000);
  c = FromProto(r, TestClock());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(Message(c.status()).find("contact.preferred_wait"),
            std::string::npos);
}

core::ContactView SampleContact() {
  core::ContactView v;
  v.id = "c1";
  v.queue = "sales";
  v.channel = core::Channel::kChat;
  v.priority = 3;
  v.state = core::ContactState::kQueued;
  v.created_at = core::Time(1000s);
  v.arrived_at = core::Time(1002s);
  v.escalation_step = 1;
  v.position = 4;
  v.customer_id = "cust-1";
  v.requirements = {{"language.fr", 4}};
  v.attributes = {{"order", "42"}, {"tier", "gold"}};
  v.created = true;
  return v;
}

TEST(ConvertTest, ContactViewWithoutEstimatedWait) {
  v1::Contact p;
  ToProto(SampleContact(), TestClock(), &p);
  EXPECT_EQ(p.id(), "c1");
  EXPECT_EQ(p.queue(), "sales");
  EXPECT_EQ(p.channel(), v1::CHANNEL_CHAT);
  EXPECT_EQ(p.priority(), 3);
  EXPECT_EQ(p.state(), v1::CONTACT_STATE_QUEUED);
  EXPECT_EQ(p.end_reason(), v1::END_REASON_UNSPECIFIED);
  EXPECT_EQ(p.created_at().seconds(), kWallSeconds);
  EXPECT_EQ(p.arrived_at().seconds(), kWallSeconds + 2);
  EXPECT_FALSE(p.has_offer_deadline());  // Time{}: not offered
  EXPECT_FALSE(p.has_estimated_wait());
  EXPECT_EQ(p.escalation_step(), 1);
  EXPECT_EQ(p.position(), 4);
  EXPECT_EQ(p.customer_id(), "cust-1");
  ASSERT_EQ(p.requirements_size(), 1);
  EXPECT_EQ(p.requirements(0).skill(), "language.fr");
  EXPECT_EQ(p.requirements(0).min_level(), 4);
  ASSERT_EQ(p.attributes_size(), 2);
  EXPECT_EQ(p.attributes().at("tier"), "gold");
  EXPECT_TRUE(p.created());
}

TEST(ConvertTest, ContactViewWithEstimatedWaitAndOffer) {
  core::ContactView v = SampleContact();
  v.state = core::ContactState::kOffered;
  v.agent_id = "alice";
  v.offer_deadline = core::Time(1017s);
  v.estimated_wait = 90500ms;
  v1::Contact p;
  ToProto(v, TestClock(), &p);
  EXPECT_EQ(p.state(), v1::CONTACT_STATE_OFFERED);
  EXPECT_EQ(p.agent_id(), "alice");
  ASSERT_TRUE(p.has_offer_deadline());
  EXPECT_EQ(p.offer_deadline().seconds(), kWallSeconds + 17);
  ASSERT_TRUE(p.has_estimated_wait());
  EXPECT_EQ(p.estimated_wait().seconds(), 90);
  EXPECT_EQ(p.estimated_wait().nanos(), 500'000'000);
}

TEST(ConvertTest, EndedContact) {
  core::ContactView v = SampleContact();
  v.state = core::ContactState::kEnded;
  v.end_reason = core::EndReason::kAbandoned;
  v.position = 0;
  v1::Contact p;
  ToProto(v, TestClock(), &p);
  EXPECT_EQ(p.state(), v1::CONTACT_STATE_ENDED);
  EXPECT_EQ(p.end_reason(), v1::END_REASON_ABANDONED);
}

TEST(ConvertTest, StatusCodesMapOneToOne) {
  EXPECT_TRUE(ToGrpc(absl::OkStatus()).ok());
  for (int code = 1; code <= 16; ++code) {
    grpc::Status g =
        ToGrpc(absl::Status(static_cast<absl::StatusCode>(code), "why"));
    EXPECT_EQ(static_cast<int>(g.error_code()), code);
    EXPECT_EQ(g.error_message(), "why");
  }
  grpc::Status g = ToGrpc(absl::ResourceExhaustedError("queue 'x' is full"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(g.error_message(), "queue 'x' is full");
  EXPECT_EQ(ToGrpc(absl::Status(static_cast<absl::StatusCode>(99), "odd"))
                .error_code(),
            grpc::StatusCode::UNKNOWN);
}

TEST(ConvertTest, EventKindNamesAreSnakeCaseAndParse) {
  EXPECT_EQ(api::EventKindName(core::EventKind::kContactOffered),
            "contact_offered");
  EXPECT_EQ(api::EventKindName(core::EventKind::kAgentStateChanged),
            "agent_state_changed");
  EXPECT_EQ(api::EventKindName(core::EventKind::kOfferTimedOut),
            "offer_timed_out");
  for (int k = 0; k < core::kEventKindCount; ++k) {
    auto kind = static_cast<core::EventKind>(k);
    std::string name = api::EventKindName(kind);
    EXPECT_NE(name, "unknown");
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << name;
    EXPECT_EQ(ParseEventKind(name), kind);
  }
  EXPECT_FALSE(ParseEventKind("ContactOffered").has_value());
}

TEST(ConvertTest, AgentStatsLoadHoldsOnlyBusyChannels) {
  core::AgentStats s;
  s.id = "alice";
  s.state = core::AgentState::kNotReady;
  s.reason = "lunch";
  s.time_in_state = 75s;
  s.load = {0, 2, 1, 0, 0};
  s.contacts = {"c1", "c2", "c3"};
  s.handled = 12;
  s.missed_offers = 1;
  v1::AgentStats p;
  ToProto(s, &p);
  EXPECT_EQ(p.agent_id(), "alice");
  EXPECT_EQ(p.state(), v1::AGENT_STATE_NOT_READY);
  EXPECT_EQ(p.reason(), "lunch");
  EXPECT_EQ(p.time_in_state().seconds(), 75);
  ASSERT_EQ(p.load_size(), 2);
  EXPECT_EQ(p.load().at("chat"), 2);
  EXPECT_EQ(p.load().at("email"), 1);
  EXPECT_EQ(p.contacts_size(), 3);
  EXPECT_EQ(p.handled(), 12);
  EXPECT_FALSE(p.has_occupancy());
  EXPECT_FALSE(p.connected());

  s.occupancy = 0.75;
  ToProto(s, &p);
  ASSERT_TRUE(p.has_occupancy());
  EXPECT_DOUBLE_EQ(p.occupancy(), 0.75);
}

TEST(ConvertTest, QueueStatsLeaveMissingFiguresUnset) {
  core::QueueStats s;
  s.name = "sales";
  s.waiting = 3;
  s.service_level_target = 20s;
  s.service_level_goal = 0.8;
  v1::QueueStats p;
  ToProto(s, &p);
  EXPECT_EQ(p.queue(), "sales");
  EXPECT_EQ(p.waiting(), 3);
  EXPECT_FALSE(p.has_service_level());
  EXPECT_FALSE(p.has_average_speed_of_answer());
  EXPECT_FALSE(p.has_estimated_wait());
  EXPECT_EQ(p.service_level_target().seconds(), 20);

  s.service_level = 0.5;
  s.average_speed_of_answer = 7s;
  s.average_handle_time = 200s;
  s.estimated_wait = 30s;
  v1::QueueStats q;
  ToProto(s, &q);
  EXPECT_DOUBLE_EQ(q.service_level(), 0.5);
  EXPECT_EQ(q.average_speed_of_answer().seconds(), 7);
  EXPECT_EQ(q.average_handle_time().seconds(), 200);
  EXPECT_EQ(q.estimated_wait().seconds(), 30);
}

TEST(ConvertTest, EventsCarryOnlyTheFieldsOfTheirKind) {
  TimeMapper clock = TestClock();
  core::Event offered;
  offered.kind = core::EventKind::kContactOffered;
  offered.at = core::Time(1010s);
  offered.contact_id = "c1";
  offered.agent_id = "alice";
  offered.queue = "sales";
  offered.channel = core::Channel::kChat;
  offered.deadline = core::Time(1025s);
  v1::Event p;
  ToProto(offered, clock, &p);
  EXPECT_EQ(p.kind(), "contact_offered");
  EXPECT_EQ(p.at().seconds(), kWallSeconds + 10);
  EXPECT_EQ(p.channel(), v1::CHANNEL_CHAT);
  EXPECT_EQ(p.deadline().seconds(), kWallSeconds + 25);
  EXPECT_EQ(p.agent_state(), v1::AGENT_STATE_UNSPECIFIED);
  EXPECT_FALSE(p.has_wait());

  core::Event state;
  state.kind = core::EventKind::kAgentStateChanged;
  state.at = core::Time(1011s);
  state.agent_id = "alice";
  state.agent_state = core::AgentState::kReady;
  v1::Event q;
  ToProto(state, clock, &q);
  EXPECT_EQ(q.kind(), "agent_state_changed");
  EXPECT_EQ(q.agent_state(), v1::AGENT_STATE_READY);
  EXPECT_EQ(q.channel(), v1::CHANNEL_UNSPECIFIED);
  EXPECT_FALSE(q.has_deadline());

  core::Event ended;
  ended.kind = core::EventKind::kContactEnded;
  ended.at = core::Time(1012s);
  ended.end_reason = core::EndReason::kCompleted;
  ended.wait = 8s;
  ended.within_target = true;
  v1::Event r;
  ToProto(ended, clock, &r);
  EXPECT_EQ(r.end_reason(), v1::END_REASON_COMPLETED);
  EXPECT_EQ(r.wait().seconds(), 8);
  EXPECT_TRUE(r.within_target());
}

}  // namespace
}  // namespace ccroute::api
