// Engine::RestoreContact and Engine::RestoreEndedContact: putting back the
// live state a journal kept across a restart. Kept apart from engine.cc; it
// uses the same internal steps (EnterQueue, Route, ChangeLoad) as the
// engine's own transitions, so the invariants hold as after any command.
#include <algorithm>
#include <cassert>

#include "server/core/detail/engine_impl.h"
#include "server/core/detail/strings.h"
#include "server/core/engine.h"

namespace ccroute::core {

using detail::Agent;
using detail::Contact;
using detail::Index;
using detail::kNone;
using detail::Queue;
using detail::TimerKey;
using detail::TimerKind;
using detail::WorkPhase;

absl::StatusOr<ContactView> Engine::RestoreContact(const RestoredContact& rc,
                                                   Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  const ContactRequest& r = rc.request;
  if (auto st = ValidateContactRequest(r, s.limits); !st.ok()) return st;
  if (s.contact_by_id.contains(r.id) || s.ended.contains(r.id)) {
    return absl::AlreadyExistsError(
        detail::Cat("contact '", r.id, "' already exists"));
  }
  const std::string& queue_name = rc.queue.empty() ? r.queue : rc.queue;
  Queue* q = s.FindQueue(queue_name);
  if (q == nullptr) {
    return absl::NotFoundError(
        detail::Cat("queue '", queue_name, "' not found"));
  }
  if (!q->config.TakesChannel(r.channel)) {
    return absl::InvalidArgumentError(
        detail::Cat("contact.channel: queue '", queue_name, "' does not take ",
                    ChannelName(r.channel), " contacts"));
  }
  if (s.live_contact_count >= s.limits.max_live_contacts) {
    return absl::ResourceExhaustedError(
        detail::Cat("the router holds its limit of ",
                    s.limits.max_live_contacts, " live contacts"));
  }
  auto extra = s.Intern(r.requirements);
  if (!extra.ok()) return extra.status();

  Index agent = kNone;
  if (!rc.agent_id.empty()) {
    auto it = s.agent_by_id.find(rc.agent_id);
    if (it != s.agent_by_id.end() &&
        Impl::HasRoom(s.agents[it->second], r.channel)) {
      agent = it->second;
    }
  }
  bool scheduled =
      agent == kNone && r.not_before.has_value() && *r.not_before > s.now;
  // An overflow or a transfer enters the queue after the arrival, never
  // before it.
  Time entered = std::max(rc.entered_at, rc.arrived_at);

  Index qi = s.queue_by_name.at(q->config.name);
  Index ci = s.NewContact(r, qi, *std::move(extra), rc.created_at);
  Contact& c = s.contacts[ci];
  c.reclaimable_by = rc.offered_to;
  if (!r.preferred_agent.empty()) {
    c.preferred_agent = r.preferred_agent;
    c.preferred_until =
        (scheduled ? *r.not_before : rc.arrived_at) + r.preferred_wait;
  }

  if (scheduled) {
    c.state = ContactState::kScheduled;
    q->scheduled++;
    c.callback_timer = s.Arm(*r.not_before, {TimerKind::kCallbackDue, ci});
  } else if (agent != kNone) {
    Agent& a = s.agents[agent];
    if (a.state == AgentState::kOffline) {
      a.accounted_at = s.now;
      a.missed_offers = 0;
      s.SetAgentState(agent, AgentState::kNotReady, "disconnected");
    }
    c.state = ContactState::kAssigned;
    c.arrival = rc.arrived_at;
    c.entered = entered;
    c.waited = rc.waited;
    c.agent = agent;
    c.work_id = s.next_seq++;
    a.work.push_back({c.work_id, ci, c.id, qi, c.channel, WorkPhase::kActive,
                      rc.arrived_at + rc.waited, TimerKey{}});
    s.ChangeLoad(a, c.channel, +1);
    s.Reindex(agent);
  } else {
    s.EnterQueue(ci, qi, rc.arrived_at, entered);
    s.Route(ci);
  }
  // Escalation steps and a maximum wait that fell due while the server was
  // down take effect now.
  s.Advance(s.now);
  return s.LatestView(r.id);
}

absl::Status Engine::RestoreEndedContact(const RestoredEndedContact& e,
                                         Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  if (e.id.empty() || e.id.size() > s.limits.max_id_bytes) {
    return absl::InvalidArgumentError("id: empty or too long");
  }
  if (s.contact_by_id.contains(e.id) || s.ended.contains(e.id)) {
    return absl::AlreadyExistsError(
        detail::Cat("contact '", e.id, "' already exists"));
  }
  if (e.ended_at + s.limits.idempotency_retention <= s.now) {
    return absl::OkStatus();
  }
  s.ended.emplace(e.id, detail::EndedContact{
                            e.requested_queue, e.gateway, e.queue, e.agent_id,
                            e.channel, e.priority, e.escalation_step, e.reason,
                            e.created_at, e.arrived_at, e.ended_at});
  // The records are forgotten oldest first: keep the order by end time.
  auto pos =
      std::upper_bound(s.ended_order.begin(), s.ended_order.end(), e.ended_at,
                       [](Time t, const std::pair<Time, std::string>& x) {
                         return t < x.first;
                       });
  s.ended_order.emplace(pos, e.ended_at, e.id);
  s.ExpireEndedRecords();
  return absl::OkStatus();
}

}  // namespace ccroute::core
