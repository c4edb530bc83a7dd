// Events the engine emits for every state change of a contact or an agent.
// They are what metrics, contact watchers, agent desktops and a journal see.
// Plain values; safe to move between threads.
#ifndef CCROUTE_SERVER_CORE_EVENTS_H_
#define CCROUTE_SERVER_CORE_EVENTS_H_

#include <string>
#include <string_view>

#include "server/core/types.h"

namespace ccroute::core {

enum class EventKind : uint8_t {
  // Contact events: contact_id, queue and channel are set.
  kContactQueued,       // created, requeued, or a callback became due
  kContactScheduled,    // created as a callback for later (`at` = due time)
  kContactEscalated,    // moved to escalation step `step`
  kContactOverflowed,   // moved from `from_queue` to `queue`
  kContactUpdated,      // priority or requirements changed
  kContactOffered,      // offered to agent_id until `deadline`
  kContactAssigned,     // agent_id accepted; `wait` is the speed of answer
  kOfferRejected,       // agent_id rejected; the contact is queued again
  kOfferTimedOut,       // agent_id did not answer in time
  kOfferRescinded,      // withdrawn (agent not ready, logged out, cancel)
  kContactWrapUp,       // the agent completed it; wrap-up until `deadline`
  kContactTransferred,  // agent_id sent it from `from_queue` to `queue`
  kContactEnded,        // `end_reason`; `wait` is the time it waited
  // Agent events: agent_id is set.
  kAgentStateChanged,  // agent_state, reason
  kAgentWrapUpEnded,   // the agent's wrap-up of contact_id is over
};
// Lower-case snake-case name ("contact_offered", "agent_state_changed").
std::string_view EventKindName(EventKind kind);
inline constexpr int kEventKindCount =
    static_cast<int>(EventKind::kAgentWrapUpEnded) + 1;

struct Event {
  EventKind kind;
  Time at;
  std::string contact_id;
  std::string agent_id;
  std::string queue;
  std::string from_queue;
  Channel channel = Channel::kVoice;
  int priority = 0;
  int step = 0;
  EndReason end_reason = EndReason::kNone;
  AgentState agent_state = AgentState::kOffline;
  // Agent not-ready reason, or the wrap-up code of a completed contact.
  std::string reason;
  // Time waited since arrival (assigned, ended).
  Duration wait{0};
  // Offer expiry, wrap-up end, or callback due time.
  Time deadline{};
  // For kContactAssigned and kContactEnded: whether the wait was within the
  // queue's service-level target.
  bool within_target = false;
  // Set on the one event that announces a new contact (queued, overflowed
  // at creation, or scheduled); requeues and due callbacks leave it false.
  bool created = false;
};

}  // namespace ccroute::core

#endif  // CCROUTE_SERVER_CORE_EVENTS_H_
