#include "server/api/convert.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <utility>

#include "server/core/detail/strings.h"

namespace ccroute::api {
namespace {

using core::detail::Cat;

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int32_t kMaxNanos = 999'999'999;

absl::Status Invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(Cat(field, ": ", problem));
}

// Nanoseconds since the epoch of a Timestamp or length of a Duration, or
// nullopt if that does not fit in 64 bits.
std::optional<int64_t> ToNanos(int64_t seconds, int32_t nanos) {
  int64_t ns;
  if (__builtin_mul_overflow(seconds, kNanosPerSecond, &ns) ||
      __builtin_add_overflow(ns, static_cast<int64_t>(nanos), &ns)) {
    return std::nullopt;
  }
  return ns;
}

std::vector<core::SkillRequirement> RequirementsFromProto(
    const google::protobuf::RepeatedPtrField<v1::SkillRequirement>& reqs) {
  std::vector<core::SkillRequirement> out;
  out.reserve(reqs.size());
  for (const v1::SkillRequirement& r : reqs) {
    // An unset level reads as the lowest: "has the skill at all".
    out.push_back(
        {r.skill(), r.min_level() == 0 ? core::kMinSkillLevel : r.min_level()});
  }
  return out;
}

void RequirementsToProto(
    const std::vector<core::SkillRequirement>& reqs,
    google::protobuf::RepeatedPtrField<v1::SkillRequirement>* out) {
  out->Reserve(static_cast<int>(reqs.size()));
  for (const core::SkillRequirement& r : reqs) {
    v1::SkillRequirement* p = out->Add();
    p->set_skill(r.skill);
    p->set_min_level(r.min_level);
  }
}

// A message-typed Duration field: `fallback` when unset, else checked.
absl::StatusOr<core::Duration> OptionalDuration(
    bool has, const google::protobuf::Duration& d, core::Duration fallback,
    std::string_view field) {
  if (!has) return fallback;
  return FromProto(d, field);
}

template <typename Request>
absl::StatusOr<core::ContactRequest> CommonContactFields(
    const Request& request, const TimeMapper& clock) {
  core::ContactRequest out;
  out.id = request.contact_id();
  out.queue = request.queue();
  out.priority = request.priority();
  out.requirements = RequirementsFromProto(request.requirements());
  out.customer_id = request.customer_id();
  out.preferred_agent = request.preferred_agent();
  out.gateway = request.gateway_id();
  if (request.has_preferred_wait()) {
    auto wait = FromProto(request.preferred_wait(), "contact.preferred_wait");
    if (!wait.ok()) return wait.status();
    out.preferred_wait = *wait;
  }
  out.attributes.reserve(request.attributes_size());
  for (const auto& [key, value] : request.attributes()) {
    out.attributes.emplace_back(key, value);
  }
  // Map order on the wire is unspecified; sorting keeps conversions (and
  // error messages naming attributes[i]) deterministic.
  std::sort(out.attributes.begin(), out.attributes.end());
  if (request.has_not_before()) {
    auto t = FromProto(request.not_before(), clock, "contact.not_before");
    if (!t.ok()) return t.status();
    out.not_before = *t;
  }
  return out;
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  int code = static_cast<int>(status.code());
  // absl::Status may carry a code outside the canonical range.
  grpc::StatusCode grpc_code =
      code > 0 && code <= static_cast<int>(grpc::StatusCode::UNAUTHENTICATED)
          ? static_cast<grpc::StatusCode>(code)
          : grpc::StatusCode::UNKNOWN;
  return grpc::Status(
      grpc_code, std::string(status.message().data(), status.message().size()));
}

absl::StatusOr<core::Channel> FromProto(v1::Channel channel,
                                        std::string_view field) {
  switch (channel) {
    case v1::CHANNEL_UNSPECIFIED:
    case v1::CHANNEL_VOICE:
      return core::Channel::kVoice;
    case v1::CHANNEL_CHAT:
      return core::Channel::kChat;
    case v1::CHANNEL_EMAIL:
      return core::Channel::kEmail;
    case v1::CHANNEL_CALLBACK:
      return core::Channel::kCallback;
    case v1::CHANNEL_TASK:
      return core::Channel::kTask;
    default:
      break;
  }
  return Invalid(field, Cat("unknown channel ", static_cast<int>(channel)));
}

v1::Channel ToProto(core::Channel channel) {
  switch (channel) {
    case core::Channel::kVoice:
      return v1::CHANNEL_VOICE;
    case core::Channel::kChat:
      return v1::CHANNEL_CHAT;
    case core::Channel::kEmail:
      return v1::CHANNEL_EMAIL;
    case core::Channel::kCallback:
      return v1::CHANNEL_CALLBACK;
    case core::Channel::kTask:
      return v1::CHANNEL_TASK;
  }
  return v1::CHANNEL_UNSPECIFIED;
}

v1::ContactState ToProto(core::ContactState state) {
  switch (state) {
    case core::ContactState::kScheduled:
      return v1::CONTACT_STATE_SCHEDULED;
    case core::ContactState::kQueued:
      return v1::CONTACT_STATE_QUEUED;
    case core::ContactState::kOffered:
      return v1::CONTACT_STATE_OFFERED;
    case core::ContactState::kAssigned:
      return v1::CONTACT_STATE_ASSIGNED;
    case core::ContactState::kWrapUp:
      return v1::CONTACT_STATE_WRAP_UP;
    case core::ContactState::kEnded:
      return v1::CONTACT_STATE_ENDED;
  }
  return v1::CONTACT_STATE_UNSPECIFIED;
}

v1::EndReason ToProto(core::EndReason reason) {
  switch (reason) {
    case core::EndReason::kCompleted:
      return v1::END_REASON_COMPLETED;
    case core::EndReason::kAbandoned:
      return v1::END_REASON_ABANDONED;
    case core::EndReason::kCancelled:
      return v1::END_REASON_CANCELLED;
    case core::EndReason::kExpired:
      return v1::END_REASON_EXPIRED;
    case core::EndReason::kNone:
    case core::EndReason::kQueueFull:  // the API has no value for it
      break;
  }
  return v1::END_REASON_UNSPECIFIED;
}

v1::AgentState ToProto(core::AgentState state) {
  switch (state) {
    case core::AgentState::kOffline:
      return v1::AGENT_STATE_OFFLINE;
    case core::AgentState::kNotReady:
      return v1::AGENT_STATE_NOT_READY;
    case core::AgentState::kReady:
      return v1::AGENT_STATE_READY;
  }
  return v1::AGENT_STATE_UNSPECIFIED;
}

std::string EventKindName(core::EventKind kind) {
  return std::string(core::EventKindName(kind));
}

std::optional<core::EventKind> ParseEventKind(std::string_view name) {
  for (int k = 0; k < core::kEventKindCount; ++k) {
    auto kind = static_cast<core::EventKind>(k);
    if (core::EventKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

core::Duration FromProto(const google::protobuf::Duration& d) {
  std::optional<int64_t> ns = ToNanos(d.seconds(), d.nanos());
  if (ns.has_value()) return core::Duration(*ns);
  return d.seconds() < 0 ? core::Duration::min() : core::Duration::max();
}

absl::StatusOr<core::Duration> FromProto(const google::protobuf::Duration& d,
                                         std::string_view field) {
  if (d.nanos() < -kMaxNanos || d.nanos() > kMaxNanos ||
      (d.seconds() > 0 && d.nanos() < 0) ||
      (d.seconds() < 0 && d.nanos() > 0)) {
    return Invalid(field, "is not a valid duration");
  }
  std::optional<int64_t> ns = ToNanos(d.seconds(), d.nanos());
  if (!ns.has_value()) {
    return Invalid(field, Cat(d.seconds(), "s is out of range"));
  }
  return core::Duration(*ns);
}

void ToProto(core::Duration d, google::protobuf::Duration* out) {
  // Division truncates toward zero, so seconds and nanos share a sign as
  // google.protobuf.Duration requires.
  out->set_seconds(d.count() / kNanosPerSecond);
  out->set_nanos(static_cast<int32_t>(d.count() % kNanosPerSecond));
}

void ToProto(core::Time t, const TimeMapper& clock,
             google::protobuf::Timestamp* out) {
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   clock.ToWall(t).time_since_epoch())
                   .count();
  // Timestamps count whole seconds down and nanos up from there.
  int64_t seconds = ns / kNanosPerSecond;
  int64_t nanos = ns % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(nanos));
}

absl::StatusOr<core::Time> FromProto(const google::protobuf::Timestamp& t,
                                     const TimeMapper& clock,
                                     std::string_view field) {
  if (t.nanos() < 0 || t.nanos() > kMaxNanos) {
    return Invalid(field, "is not a valid timestamp");
  }
  std::optional<int64_t> wall = ToNanos(t.seconds(), t.nanos());
  // The offset between the clocks is engine time 0 on the wall clock.
  int64_t offset = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       clock.ToWall(core::Time{}).time_since_epoch())
                       .count();
  int64_t engine;
  if (!wall.has_value() || __builtin_sub_overflow(*wall, offset, &engine)) {
    return Invalid(field, Cat(t.seconds(), "s since 1970 is out of range"));
  }
  return core::Time(core::Duration(engine));
}

absl::StatusOr<core::QueueConfig> FromProto(const v1::Queue& queue) {
  core::QueueConfig out;
  out.name = queue.name();
  if (queue.channels_size() > 0) {
    out.channels = 0;
    for (int i = 0; i < queue.channels_size(); ++i) {
      v1::Channel c = queue.channels(i);
      std::string field = Cat("queue.channels[", i, "]");
      if (c == v1::CHANNEL_UNSPECIFIED) {
        return Invalid(field, "CHANNEL_UNSPECIFIED is not a channel");
      }
      auto channel = FromProto(c, field);
      if (!channel.ok()) return channel.status();
      out.channels |= 1u << static_cast<int>(*channel);
    }
  }
  auto target = OptionalDuration(
      queue.has_service_level_target(), queue.service_level_target(),
      out.service_level_target, "queue.service_level_target");
  if (!target.ok()) return target.status();
  out.service_level_target = *target;
  if (queue.service_level_goal() != 0) {
    out.service_level_goal = queue.service_level_goal();
  }
  out.requirements = RequirementsFromProto(queue.requirements());
  for (int i = 0; i < queue.escalation_size(); ++i) {
    const v1::EscalationStep& step = queue.escalation(i);
    core::EscalationStep s;
    auto after =
        OptionalDuration(step.has_after(), step.after(), core::Duration::zero(),
                         Cat("queue.escalation[", i, "].after"));
    if (!after.ok()) return after.status();
    s.after = *after;
    s.requirements = RequirementsFromProto(step.requirements());
    s.drop_contact_requirements = step.drop_contact_requirements();
    out.escalation.push_back(std::move(s));
  }
  out.max_waiting = queue.max_waiting();
  out.overflow_queue = queue.overflow_queue();
  auto max_wait = OptionalDuration(queue.has_max_wait(), queue.max_wait(),
                                   core::Duration::zero(), "queue.max_wait");
  if (!max_wait.ok()) return max_wait.status();
  out.max_wait = *max_wait;
  out.max_wait_queue = queue.max_wait_queue();
  if (!queue.agent_selection().empty()) {
    auto selection = core::ParseAgentSelection(queue.agent_selection());
    if (!selection.has_value()) {
      return Invalid("queue.agent_selection",
                     Cat("unknown agent selection '", queue.agent_selection(),
                         "' (longest_idle, most_skilled, least_occupied or ",
                         "preserve_coverage)"));
    }
    out.agent_selection = *selection;
  }
  auto offer_timeout =
      OptionalDuration(queue.has_offer_timeout(), queue.offer_timeout(),
                       out.offer_timeout, "queue.offer_timeout");
  if (!offer_timeout.ok()) return offer_timeout.status();
  out.offer_timeout = *offer_timeout;
  auto window =
      OptionalDuration(queue.has_last_agent_window(), queue.last_agent_window(),
                       core::Duration::zero(), "queue.last_agent_window");
  if (!window.ok()) return window.status();
  out.last_agent_window = *window;
  auto handle_time = OptionalDuration(
      queue.has_default_handle_time(), queue.default_handle_time(),
      out.default_handle_time, "queue.default_handle_time");
  if (!handle_time.ok()) return handle_time.status();
  out.default_handle_time = *handle_time;
  return out;
}

v1::Queue ToProto(const core::QueueConfig& queue) {
  v1::Queue out;
  out.set_name(queue.name);
  for (int c = 0; c < core::kChannelCount; ++c) {
    auto channel = static_cast<core::Channel>(c);
    if (queue.TakesChannel(channel)) out.add_channels(ToProto(channel));
  }
  ToProto(queue.service_level_target, out.mutable_service_level_target());
  out.set_service_level_goal(queue.service_level_goal);
  RequirementsToProto(queue.requirements, out.mutable_requirements());
  for (const core::EscalationStep& step : queue.escalation) {
    v1::EscalationStep* s = out.add_escalation();
    ToProto(step.after, s->mutable_after());
    RequirementsToProto(step.requirements, s->mutable_requirements());
    s->set_drop_contact_requirements(step.drop_contact_requirements);
  }
  out.set_max_waiting(queue.max_waiting);
  out.set_overflow_queue(queue.overflow_queue);
  ToProto(queue.max_wait, out.mutable_max_wait());
  out.set_max_wait_queue(queue.max_wait_queue);
  out.set_agent_selection(
      std::string(core::AgentSelectionName(queue.agent_selection)));
  ToProto(queue.offer_timeout, out.mutable_offer_timeout());
  ToProto(queue.last_agent_window, out.mutable_last_agent_window());
  ToProto(queue.default_handle_time, out.mutable_default_handle_time());
  return out;
}

absl::StatusOr<core::AgentProfile> FromProto(const v1::AgentProfile& agent) {
  core::AgentProfile out;
  out.id = agent.id();
  out.skills.reserve(agent.skills_size());
  for (const v1::Skill& s : agent.skills()) {
    out.skills.push_back(
        {s.name(), s.level() == 0 ? core::kMinSkillLevel : s.level()});
  }
  if (agent.has_capacity()) {
    const v1::ChannelCapacity& c = agent.capacity();
    out.capacity = {c.voice(), c.chat(), c.email(), c.callback(), c.task()};
  }
  if (agent.has_voice_blocks_other_channels()) {
    out.voice_blocks_other_channels = agent.voice_blocks_other_channels();
  }
  if (agent.has_wrap_up()) {
    const v1::ChannelWrapUp& w = agent.wrap_up();
    const std::array<std::pair<bool, const google::protobuf::Duration*>,
                     core::kChannelCount>
        fields = {{{w.has_voice(), &w.voice()},
                   {w.has_chat(), &w.chat()},
                   {w.has_email(), &w.email()},
                   {w.has_callback(), &w.callback()},
                   {w.has_task(), &w.task()}}};
    for (int c = 0; c < core::kChannelCount; ++c) {
      auto d = OptionalDuration(
          fields[c].first, *fields[c].second, core::Duration::zero(),
          Cat("agent.wrap_up.",
              core::ChannelName(static_cast<core::Channel>(c))));
      if (!d.ok()) return d.status();
      out.wrap_up[c] = *d;
    }
  }
  return out;
}

v1::AgentProfile ToProto(const core::AgentProfile& agent) {
  v1::AgentProfile out;
  out.set_id(agent.id);
  for (const core::Skill& s : agent.skills) {
    v1::Skill* p = out.add_skills();
    p->set_name(s.name);
    p->set_level(s.level);
  }
  v1::ChannelCapacity* c = out.mutable_capacity();
  c->set_voice(agent.capacity[0]);
  c->set_chat(agent.capacity[1]);
  c->set_email(agent.capacity[2]);
  c->set_callback(agent.capacity[3]);
  c->set_task(agent.capacity[4]);
  out.set_voice_blocks_other_channels(agent.voice_blocks_other_channels);
  v1::ChannelWrapUp* w = out.mutable_wrap_up();
  ToProto(agent.wrap_up[0], w->mutable_voice());
  ToProto(agent.wrap_up[1], w->mutable_chat());
  ToProto(agent.wrap_up[2], w->mutable_email());
  ToProto(agent.wrap_up[3], w->mutable_callback());
  ToProto(agent.wrap_up[4], w->mutable_task());
  return out;
}

absl::StatusOr<core::RoutingPolicy> FromProto(const v1::RoutingPolicy& policy) {
  core::RoutingPolicy out;
  if (!policy.contact_selection().empty()) {
    auto selection = core::ParseContactSelection(policy.contact_selection());
    if (!selection.has_value()) {
      return Invalid(
          "routing.contact_selection",
          Cat("unknown contact selection '", policy.contact_selection(),
              "' (service_level or fifo)"));
    }
    out.contact_selection = *selection;
  }
  if (policy.has_max_missed_offers()) {
    out.max_missed_offers = policy.max_missed_offers();
  }
  auto delay =
      OptionalDuration(policy.has_reoffer_delay(), policy.reoffer_delay(),
                       out.reoffer_delay, "routing.reoffer_delay");
  if (!delay.ok()) return delay.status();
  out.reoffer_delay = *delay;
  return out;
}

v1::RoutingPolicy ToProto(const core::RoutingPolicy& policy) {
  v1::RoutingPolicy out;
  out.set_contact_selection(
      std::string(core::ContactSelectionName(policy.contact_selection)));
  out.set_max_missed_offers(policy.max_missed_offers);
  ToProto(policy.reoffer_delay, out.mutable_reoffer_delay());
  return out;
}

absl::StatusOr<core::ContactRequest> FromProto(
    const v1::CreateContactRequest& request, const TimeMapper& clock) {
  auto channel = FromProto(request.channel(), "contact.channel");
  if (!channel.ok()) return channel.status();
  auto out = CommonContactFields(request, clock);
  if (!out.ok()) return out.status();
  out->channel = *channel;
  return out;
}

absl::StatusOr<core::ContactRequest> FromProto(
    const v1::ScheduleCallbackRequest& request, const TimeMapper& clock) {
  auto out = CommonContactFields(request, clock);
  if (!out.ok()) return out.status();
  out->channel = core::Channel::kCallback;
  return out;
}

void ToProto(const core::ContactView& contact, const TimeMapper& clock,
             v1::Contact* out) {
  out->set_id(contact.id);
  out->set_queue(contact.queue);
  out->set_channel(ToProto(contact.channel));
  out->set_priority(contact.priority);
  out->set_state(ToProto(contact.state));
  out->set_end_reason(ToProto(contact.end_reason));
  out->set_agent_id(contact.agent_id);
  if (contact.created_at != core::Time{}) {
    ToProto(contact.created_at, clock, out->mutable_created_at());
  }
  if (contact.arrived_at != core::Time{}) {
    ToProto(contact.arrived_at, clock, out->mutable_arrived_at());
  }
  if (contact.offer_deadline != core::Time{}) {
    ToProto(contact.offer_deadline, clock, out->mutable_offer_deadline());
  }
  out->set_escalation_step(contact.escalation_step);
  out->set_position(contact.position);
  if (contact.estimated_wait.has_value()) {
    ToProto(*contact.estimated_wait, out->mutable_estimated_wait());
  }
  out->set_customer_id(contact.customer_id);
  RequirementsToProto(contact.requirements, out->mutable_requirements());
  auto& attributes = *out->mutable_attributes();
  for (const auto& [key, value] : contact.attributes) attributes[key] = value;
  out->set_created(contact.created);
  out->set_gateway_id(contact.gateway);
}

void ToProto(const core::QueueStats& stats, v1::QueueStats* out) {
  out->set_queue(stats.name);
  out->set_waiting(stats.waiting);
  out->set_offered(stats.offered);
  out->set_scheduled(stats.scheduled);
  ToProto(stats.oldest_wait, out->mutable_oldest_wait());
  out->set_created(stats.created);
  out->set_refused(stats.refused);
  out->set_answered(stats.answered);
  out->set_abandoned(stats.abandoned);
  out->set_cancelled(stats.cancelled);
  out->set_expired(stats.expired);
  out->set_completed(stats.completed);
  out->set_overflowed(stats.overflowed);
  out->set_transferred_in(stats.transferred_in);
  out->set_offers(stats.offers);
  out->set_offers_accepted(stats.offers_accepted);
  out->set_offers_rejected(stats.offers_rejected);
  out->set_offers_timed_out(stats.offers_timed_out);
  out->set_offers_rescinded(stats.offers_rescinded);
  if (stats.service_level.has_value()) {
    out->set_service_level(*stats.service_level);
  }
  ToProto(stats.service_level_target, out->mutable_service_level_target());
  out->set_service_level_goal(stats.service_level_goal);
  if (stats.average_speed_of_answer.has_value()) {
    ToProto(*stats.average_speed_of_answer,
            out->mutable_average_speed_of_answer());
  }
  if (stats.average_handle_time.has_value()) {
    ToProto(*stats.average_handle_time, out->mutable_average_handle_time());
  }
  if (stats.estimated_wait.has_value()) {
    ToProto(*stats.estimated_wait, out->mutable_estimated_wait());
  }
  out->set_agents_ready(stats.agents_ready);
  out->set_window_answered(stats.window_answered);
  out->set_window_abandoned(stats.window_abandoned);
  out->set_window_answered_within_target(stats.window_answered_within_target);
}

void ToProto(const core::AgentStats& stats, v1::AgentStats* out) {
  out->set_agent_id(stats.id);
  out->set_state(ToProto(stats.state));
  out->set_reason(stats.reason);
  ToProto(stats.time_in_state, out->mutable_time_in_state());
  auto& load = *out->mutable_load();
  for (int c = 0; c < core::kChannelCount; ++c) {
    if (stats.load[c] > 0) {
      load[std::string(core::ChannelName(static_cast<core::Channel>(c)))] =
          stats.load[c];
    }
  }
  out->set_offered_contact(stats.offered_contact);
  for (const std::string& id : stats.contacts) out->add_contacts(id);
  out->set_handled(stats.handled);
  out->set_missed_offers(stats.missed_offers);
  if (stats.occupancy.has_value()) out->set_occupancy(*stats.occupancy);
}

void ToProto(const core::Event& event, const TimeMapper& clock,
             v1::Event* out) {
  out->set_kind(api::EventKindName(event.kind));
  if (event.at != core::Time{}) ToProto(event.at, clock, out->mutable_at());
  out->set_contact_id(event.contact_id);
  out->set_agent_id(event.agent_id);
  out->set_queue(event.queue);
  out->set_from_queue(event.from_queue);
  bool state_change = event.kind == core::EventKind::kAgentStateChanged;
  // Fields that mean nothing for the kind stay unset rather than showing a
  // default that reads as a fact (voice, OFFLINE).
  if (!state_change) out->set_channel(ToProto(event.channel));
  out->set_priority(event.priority);
  out->set_escalation_step(event.step);
  out->set_end_reason(ToProto(event.end_reason));
  if (state_change) {
    out->set_agent_state(ToProto(event.agent_state));
  }
  out->set_reason(event.reason);
  if (event.kind == core::EventKind::kContactAssigned ||
      event.kind == core::EventKind::kContactEnded) {
    ToProto(event.wait, out->mutable_wait());
  }
  if (event.deadline != core::Time{}) {
    ToProto(event.deadline, clock, out->mutable_deadline());
  }
  out->set_within_target(event.within_target);
}

}  // namespace ccroute::api
