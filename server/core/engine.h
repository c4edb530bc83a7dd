// The routing engine: queues, agents, contacts and offers, and the two
// routing decisions of an ACD. A deterministic state machine: every call
// takes the current time, fires the timers due by then (offer timeouts,
// escalation steps, callbacks, wrap-up ends, maximum waits) and appends
// events to an internal buffer that the caller drains with TakeEvents().
//
// Thread affinity: not thread-safe; one thread owns an Engine.
//
// Errors are absl::Status with canonical codes: INVALID_ARGUMENT (a bad
// field; nothing changed), NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION
// (wrong state), RESOURCE_EXHAUSTED (queue full, limits). A failed call
// changes nothing, except that timers due by `now` have fired.
//
// Time must not go backwards: a `now` earlier than one already seen is
// treated as the latest time seen.
#ifndef CCROUTE_SERVER_CORE_ENGINE_H_
#define CCROUTE_SERVER_CORE_ENGINE_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/core/config.h"
#include "server/core/events.h"
#include "server/core/types.h"

namespace ccroute::core {

// A snapshot of one contact.
struct ContactView {
  std::string id;
  std::string queue;
  Channel channel = Channel::kVoice;
  int priority = 0;
  ContactState state = ContactState::kQueued;
  EndReason end_reason = EndReason::kNone;
  std::string agent_id;  // offered to, or assigned to
  Time created_at{};
  Time arrived_at{};  // start of the wait (ordering key with priority)
  Time entered_at{};  // entry into `queue`: escalation and maximum wait
  Time ended_at{};    // once ended
  std::string requested_queue;  // as the gateway named it at creation
  std::string gateway;          // the owning gateway, if any
  Time offer_deadline{};        // while offered
  int escalation_step = 0;
  // Once answered (assigned or in wrap-up): arrival to answer.
  Duration waited{0};
  // 1-based place among the queue's waiting contacts (priority, then
  // arrival); 0 when not waiting.
  int position = 0;
  // Estimated time until answer (see Engine::GetContact); nullopt when no
  // agent who could take the contact is ready.
  std::optional<Duration> estimated_wait;
  std::string customer_id;
  std::vector<SkillRequirement> requirements;  // the contact's own
  std::vector<std::pair<std::string, std::string>> attributes;
  // Set by CreateContact: false when an existing contact was returned.
  bool created = false;
};

struct QueueStats {
  std::string name;
  int waiting = 0;    // queued or offered
  int offered = 0;    // of which offered right now
  int scheduled = 0;  // callbacks not yet due
  Duration oldest_wait{0};
  int64_t created = 0;
  int64_t refused = 0;  // not created: the queue and its overflow were full
  int64_t answered = 0;
  int64_t abandoned = 0;
  int64_t cancelled = 0;
  int64_t expired = 0;
  int64_t completed = 0;
  int64_t overflowed = 0;  // moved out to another queue
  int64_t transferred_in = 0;
  int64_t offers = 0;
  int64_t offers_accepted = 0;
  int64_t offers_rejected = 0;
  int64_t offers_timed_out = 0;
  int64_t offers_rescinded = 0;
  // Over the rolling window (EngineLimits::stats_window, 15 minutes by
  // default); handle time runs from the answer to the end of wrap-up:
  int64_t window_answered = 0;
  int64_t window_answered_within_target = 0;
  int64_t window_abandoned = 0;
  // Answered within target / (answered + abandoned after the target +
  // expired); nullopt when the window saw none of those.
  std::optional<double> service_level;
  Duration service_level_target{0};
  double service_level_goal = 0;
  std::optional<Duration> average_speed_of_answer;
  std::optional<Duration> average_handle_time;
  // Estimated wait for a new contact without extra requirements on the
  // queue's first channel.
  std::optional<Duration> estimated_wait;
  int agents_ready = 0;  // READY agents meeting the base requirements
};

struct AgentStats {
  std::string id;
  AgentState state = AgentState::kOffline;
  std::string reason;
  Duration time_in_state{0};
  std::array<int, kChannelCount> load{};
  std::string offered_contact;
  std::vector<std::string> contacts;  // assigned or in wrap-up
  int64_t handled = 0;
  int missed_offers = 0;  // consecutive
  // Share of logged-in time with work, out of time with work plus time
  // ready without work; nullopt before any such time passed.
  std::optional<double> occupancy;
};

// A live contact read back from a journal after a restart (see
// Engine::RestoreContact).
struct RestoredContact {
  // As created, with the priority and requirements as last updated.
  ContactRequest request;
  // The queue it is in now: differs from request.queue after an overflow
  // or a transfer. Empty: request.queue.
  std::string queue;
  Time created_at{};
  Time arrived_at{};  // ordering key with priority
  Time entered_at{};  // entry into `queue`
  // Set: the contact was assigned to this agent, after waiting `waited`.
  std::string agent_id;
  Duration waited{0};
  // Set: the contact was offered to this agent, who may have accepted it
  // (see ReclaimContact). It waits at its place all the same.
  std::string offered_to;
};

// An ended contact's record kept for idempotency, read back from a journal
// (see Engine::RestoreEndedContact).
struct RestoredEndedContact {
  std::string id;
  std::string requested_queue;  // as the gateway named it
  std::string gateway;
  std::string queue;  // where it ended
  std::string agent_id;
  Channel channel = Channel::kVoice;
  int priority = 0;
  int escalation_step = 0;
  EndReason reason = EndReason::kCompleted;
  Time created_at{};
  Time arrived_at{};
  Time ended_at{};
};

class Engine {
 public:
  explicit Engine(EngineLimits limits = {}, RoutingPolicy policy = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // --- Administration ---------------------------------------------------
  // Creates or replaces a queue. Waiting contacts move to the new
  // requirements keeping their places. Overflow targets are looked up by
  // name when used, so they may be defined later.
  absl::Status UpsertQueue(const QueueConfig& queue, Time now);
  // FAILED_PRECONDITION while the queue has contacts.
  absl::Status DeleteQueue(std::string_view name, Time now);
  // Creates or replaces an agent profile; a logged-in agent keeps its state
  // and work. FAILED_PRECONDITION if a capacity would fall below the load.
  absl::Status UpsertAgentProfile(const AgentProfile& agent, Time now);
  // FAILED_PRECONDITION unless the agent is logged out.
  absl::Status DeleteAgentProfile(std::string_view id, Time now);
  absl::Status SetRoutingPolicy(const RoutingPolicy& policy, Time now);
  const RoutingPolicy& routing_policy() const;
  const EngineLimits& limits() const;
  std::vector<QueueConfig> ListQueues() const;
  std::vector<AgentProfile> ListAgentProfiles() const;

  // --- Gateways ---------------------------------------------------------
  // Queues a contact and routes it at once if an agent is available.
  // Idempotent on request.id: a retry returns the existing (or recently
  // ended) contact with `created == false`; ALREADY_EXISTS if the retry
  // names another queue or channel. RESOURCE_EXHAUSTED if the queue and its
  // overflow are full.
  absl::StatusOr<ContactView> CreateContact(const ContactRequest& request,
                                            Time now);
  // Ends a waiting, scheduled or offered contact as kAbandoned or
  // kCancelled (an offer is withdrawn). FAILED_PRECONDITION once assigned,
  // or if it already ended for another reason; OK if it already ended for
  // this one (a retried cancel).
  absl::Status CancelContact(std::string_view id, EndReason reason, Time now);
  // Changes the priority and/or the extra requirements of a contact that is
  // not yet offered; it keeps its arrival time.
  absl::Status UpdateContact(
      std::string_view id, std::optional<int> priority,
      std::optional<std::vector<SkillRequirement>> requirements, Time now);
  // A snapshot of a live or recently ended contact. The estimated wait is
  // position x average handle time / ready capacity: the queue's average
  // handle time over the stats window (the queue's default before any was
  // measured), divided by the channel capacity of the READY agents eligible
  // for the contact. It ignores other queues that share those agents.
  absl::StatusOr<ContactView> GetContact(std::string_view id, Time now);
  // The live contacts that `gateway` owns (ContactRequest::gateway), in
  // creation order. Costs a pass over all live contacts: for a Resync.
  std::vector<std::string> LiveContactsOf(std::string_view gateway) const;
  // As GetContact, without what costs a lookup or a copy (position,
  // estimated wait, customer id, attributes): for recording every change
  // of a contact. Does not advance time.
  absl::StatusOr<ContactView> GetContactState(std::string_view id) const;

  // --- Agents -----------------------------------------------------------
  // OFFLINE -> NOT_READY("login"). NOT_FOUND without a profile.
  absl::Status Login(std::string_view agent_id, Time now);
  // Makes the agent READY and offers it the best waiting contact.
  absl::Status SetReady(std::string_view agent_id, Time now);
  // NOT_READY with a reason code; an open offer is withdrawn and requeued.
  // Assigned work continues.
  absl::Status SetNotReady(std::string_view agent_id, std::string_view reason,
                           Time now);
  // Withdraws an open offer, ends wrap-ups, goes OFFLINE.
  // FAILED_PRECONDITION while the agent has assigned contacts.
  absl::Status Logout(std::string_view agent_id, Time now);
  // Logs the agent out whatever it holds: the open offer is withdrawn,
  // wrap-ups end, and assigned contacts go back to their queue at their
  // original place (arrival time kept) to be offered to someone else. For a
  // desktop that did not come back, or a supervisor's order. OK if the agent
  // is already logged out.
  absl::Status ForceLogout(std::string_view agent_id, std::string_view reason,
                           Time now);
  // The agent's desktop went away: withdraws the open offer (the contact is
  // offered elsewhere at once) and sets NOT_READY("disconnected"). Assigned
  // contacts stay with the agent.
  absl::Status AgentDisconnected(std::string_view agent_id, Time now);
  // FAILED_PRECONDITION unless `contact_id` is offered to this agent.
  absl::Status AcceptOffer(std::string_view agent_id,
                           std::string_view contact_id, Time now);
  // An agent's desktop, logging in again, declares a contact it is still
  // handling that the engine has waiting or offered because the accept was
  // lost to a restart: the contact was offered to this agent when the
  // journal last recorded it (RestoredContact::offered_to), or is offered
  // to it now. The contact is assigned to the agent at once, wherever it
  // waits (an offer to another agent is rescinded), skills aside. OK if it
  // is already the agent's. FAILED_PRECONDITION when another agent has it,
  // it was never offered to this agent, or it is a callback not yet due;
  // RESOURCE_EXHAUSTED without room on the channel; NOT_FOUND unless live.
  absl::Status ReclaimContact(std::string_view agent_id,
                              std::string_view contact_id, Time now);
  // An assigned contact the agent's desktop no longer has (it logged in
  // again without it) goes back to its queue at its original place, to be
  // offered to another agent (not to this one within the reoffer delay).
  // FAILED_PRECONDITION unless it is assigned to this agent.
  absl::Status ReturnContact(std::string_view agent_id,
                             std::string_view contact_id, Time now);
  absl::Status RejectOffer(std::string_view agent_id,
                           std::string_view contact_id, Time now);
  // Ends the conversation; the contact is in wrap-up for the channel's
  // wrap-up time (or ends at once if that is 0).
  absl::Status CompleteContact(std::string_view agent_id,
                               std::string_view contact_id,
                               std::string_view wrap_up_code, Time now);
  // Ends the agent's wrap-up of `contact_id` before its time.
  absl::Status EndWrapUp(std::string_view agent_id, std::string_view contact_id,
                         Time now);
  // Sends an assigned contact to another queue, where it waits from now;
  // the agent goes into wrap-up for it.
  absl::Status TransferContact(std::string_view agent_id,
                               std::string_view contact_id,
                               std::string_view queue, Time now);

  // --- Recovery ---------------------------------------------------------
  // Puts back a contact that was live before a restart, without counting it
  // as created and without an event of its own (routing it may offer it).
  // Restore contacts in their original creation order, after the queues
  // and agent profiles and before new contacts arrive: ties of priority and
  // arrival go to the one restored first.
  //  - A callback whose not_before is after `now` is scheduled again.
  //  - With agent_id set, an agent with a profile and room on the channel
  //    keeps the contact as assigned; an agent logged out is logged in as
  //    NOT_READY("disconnected"), as after AgentDisconnected, so the caller
  //    starts the reconnect grace (ForceLogout when it ends sends the
  //    contact back to its place).
  //  - Otherwise (also an offered contact, or an agent without room) the
  //    contact waits at its original place: by priority, then arrived_at.
  //    Escalation steps and the maximum wait run from entered_at; those
  //    already due take effect now (a contact that waited past its queue's
  //    maximum wait overflows or expires).
  // The queue's max_waiting is not applied: the contact was accepted once.
  // INVALID_ARGUMENT for a bad request or a channel the queue does not
  // take, ALREADY_EXISTS if the id is live or remembered as ended,
  // NOT_FOUND without the queue, RESOURCE_EXHAUSTED at max_live_contacts.
  absl::StatusOr<ContactView> RestoreContact(const RestoredContact& contact,
                                             Time now);
  // Remembers an ended contact so that a retried create returns it, until
  // ended_at + idempotency_retention (OK and nothing kept if that passed).
  // ALREADY_EXISTS if the id is live or already remembered.
  absl::Status RestoreEndedContact(const RestoredEndedContact& ended, Time now);

  // --- Time -------------------------------------------------------------
  // Fires every timer due at or before `now`, each at its own time.
  void AdvanceTo(Time now);
  // The earliest pending timer, if any: call AdvanceTo then.
  std::optional<Time> NextDeadline() const;
  Time now() const;

  // Moves the events emitted so far to the end of `out`.
  void TakeEvents(std::vector<Event>& out);

  // --- Statistics -------------------------------------------------------
  absl::StatusOr<QueueStats> GetQueueStats(std::string_view queue, Time now);
  std::vector<QueueStats> GetAllQueueStats(Time now);
  absl::StatusOr<AgentStats> GetAgentStats(std::string_view agent_id, Time now);
  std::vector<AgentStats> GetAllAgentStats(Time now);
  size_t live_contacts() const;

  // Checks every invariant of the engine's state (contact states, offers,
  // capacities, indexes, no idle agent left beside a contact it could
  // take). Costs O(contacts x agents): for tests and fuzzing. Returns
  // INTERNAL naming the first violation.
  absl::Status CheckInvariants() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ccroute::core

#endif  // CCROUTE_SERVER_CORE_ENGINE_H_
