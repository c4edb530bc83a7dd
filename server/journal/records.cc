#include "server/journal/records.h"

#include <string>
#include <utility>

namespace ccroute::journal {

namespace {

absl::StatusOr<core::Channel> ChannelOf(int32_t value) {
  if (value < 0 || value >= core::kChannelCount) {
    return absl::InvalidArgumentError("channel " + std::to_string(value) +
                                      " out of range");
  }
  return static_cast<core::Channel>(value);
}

void PutRequirements(const std::vector<core::SkillRequirement>& from,
                     google::protobuf::RepeatedPtrField<Requirement>* to) {
  for (const core::SkillRequirement& r : from) {
    Requirement* out = to->Add();
    out->set_skill(r.skill);
    out->set_min_level(r.min_level);
  }
}

std::vector<core::SkillRequirement> GetRequirements(
    const google::protobuf::RepeatedPtrField<Requirement>& from) {
  std::vector<core::SkillRequirement> out;
  out.reserve(from.size());
  for (const Requirement& r : from) out.push_back({r.skill(), r.min_level()});
  return out;
}

ContactState StateOf(core::ContactState state) {
  switch (state) {
    case core::ContactState::kScheduled:
      return CONTACT_STATE_SCHEDULED;
    case core::ContactState::kQueued:
      return CONTACT_STATE_WAITING;
    case core::ContactState::kOffered:
      return CONTACT_STATE_OFFERED;
    case core::ContactState::kAssigned:
      return CONTACT_STATE_ASSIGNED;
    case core::ContactState::kWrapUp:
      return CONTACT_STATE_WRAP_UP;
    case core::ContactState::kEnded:
      break;
  }
  return CONTACT_STATE_UNSPECIFIED;
}

}  // namespace

ContactRequest ToRecord(const core::ContactRequest& r, const ClockMap& clock) {
  ContactRequest out;
  out.set_id(r.id);
  out.set_queue(r.queue);
  out.set_channel(static_cast<int32_t>(r.channel));
  out.set_priority(r.priority);
  PutRequirements(r.requirements, out.mutable_requirements());
  out.set_customer_id(r.customer_id);
  out.set_preferred_agent(r.preferred_agent);
  out.set_preferred_wait_ns(r.preferred_wait.count());
  out.set_gateway(r.gateway);
  for (const auto& [key, value] : r.attributes) {
    Attribute* a = out.add_attributes();
    a->set_key(key);
    a->set_value(value);
  }
  if (r.not_before.has_value()) {
    out.set_not_before_unix_ns(clock.ToUnixNanos(*r.not_before));
  }
  return out;
}

absl::StatusOr<core::ContactRequest> FromRecord(const ContactRequest& record,
                                                const ClockMap& clock) {
  auto channel = ChannelOf(record.channel());
  if (!channel.ok()) return channel.status();
  core::ContactRequest r;
  r.id = record.id();
  r.queue = record.queue();
  r.channel = *channel;
  r.priority = record.priority();
  r.requirements = GetRequirements(record.requirements());
  r.customer_id = record.customer_id();
  r.preferred_agent = record.preferred_agent();
  r.preferred_wait = core::Duration(record.preferred_wait_ns());
  r.gateway = record.gateway();
  for (const Attribute& a : record.attributes()) {
    r.attributes.emplace_back(a.key(), a.value());
  }
  if (record.has_not_before_unix_ns()) {
    r.not_before = clock.ToEngine(record.not_before_unix_ns());
  }
  return r;
}

ContactStatus StatusOf(const core::ContactView& view, const ClockMap& clock) {
  ContactStatus out;
  out.set_state(StateOf(view.state));
  out.set_queue(view.queue);
  out.set_agent_id(view.agent_id);
  out.set_arrived_unix_ns(clock.ToUnixNanos(view.arrived_at));
  out.set_entered_unix_ns(clock.ToUnixNanos(view.entered_at));
  out.set_escalation_step(view.escalation_step);
  out.set_priority(view.priority);
  PutRequirements(view.requirements, out.mutable_requirements());
  out.set_waited_ns(view.waited.count());
  return out;
}

EndedContact EndedOf(const core::ContactView& view, const ClockMap& clock,
                     core::Time expires) {
  EndedContact out;
  out.set_id(view.id);
  out.set_requested_queue(view.requested_queue);
  out.set_gateway(view.gateway);
  out.set_queue(view.queue);
  out.set_channel(static_cast<int32_t>(view.channel));
  out.set_priority(view.priority);
  out.set_escalation_step(view.escalation_step);
  out.set_end_reason(static_cast<int32_t>(view.end_reason));
  out.set_agent_id(view.agent_id);
  out.set_created_unix_ns(clock.ToUnixNanos(view.created_at));
  out.set_arrived_unix_ns(clock.ToUnixNanos(view.arrived_at));
  out.set_ended_unix_ns(clock.ToUnixNanos(view.ended_at));
  out.set_expires_unix_ns(clock.ToUnixNanos(expires));
  return out;
}

absl::StatusOr<core::RestoredContact> ToRestored(const JournaledContact& record,
                                                 const ClockMap& clock) {
  const ContactStatus& st = record.status;
  auto request = FromRecord(record.contact.request(), clock);
  if (!request.ok()) return request.status();
  core::RestoredContact out;
  out.request = *std::move(request);
  // The status holds what changed since the create.
  out.request.priority = st.priority();
  out.request.requirements = GetRequirements(st.requirements());
  out.queue = st.queue();
  out.created_at = clock.ToEngine(record.contact.created_unix_ns());
  out.arrived_at = clock.ToEngine(st.arrived_unix_ns());
  out.entered_at = clock.ToEngine(st.entered_unix_ns());
  switch (st.state()) {
    case CONTACT_STATE_SCHEDULED:
    case CONTACT_STATE_WAITING:
      break;
    case CONTACT_STATE_OFFERED:
      out.offered_to = st.agent_id();
      break;
    case CONTACT_STATE_ASSIGNED:
    case CONTACT_STATE_WRAP_UP:
      out.agent_id = st.agent_id();
      out.waited = core::Duration(st.waited_ns());
      break;
    default:
      return absl::InvalidArgumentError("contact '" + out.request.id +
                                        "': state " +
                                        std::to_string(st.state()));
  }
  return out;
}

absl::StatusOr<core::RestoredEndedContact> ToRestored(
    const EndedContact& record, const ClockMap& clock) {
  auto channel = ChannelOf(record.channel());
  if (!channel.ok()) return channel.status();
  if (record.end_reason() <= static_cast<int>(core::EndReason::kNone) ||
      record.end_reason() > static_cast<int>(core::EndReason::kQueueFull)) {
    return absl::InvalidArgumentError("contact '" + record.id() +
                                      "': end reason " +
                                      std::to_string(record.end_reason()));
  }
  core::RestoredEndedContact out;
  out.id = record.id();
  out.requested_queue = record.requested_queue();
  out.gateway = record.gateway();
  out.queue = record.queue();
  out.agent_id = record.agent_id();
  out.channel = *channel;
  out.priority = record.priority();
  out.escalation_step = record.escalation_step();
  out.reason = static_cast<core::EndReason>(record.end_reason());
  out.created_at = clock.ToEngine(record.created_unix_ns());
  out.arrived_at = clock.ToEngine(record.arrived_unix_ns());
  out.ended_at = clock.ToEngine(record.ended_unix_ns());
  return out;
}

}  // namespace ccroute::journal
