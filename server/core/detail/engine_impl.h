// The engine's internal state and indexes. Private to server/core: included
// by engine.cc and invariants.cc only. Engine thread only.
//
// Contacts wait in requirement classes: all contacts of one queue and
// channel with the same effective requirements share a class, ordered by
// (priority desc, arrival, sequence). Agents that can take work are indexed
// per (channel, skill, level) in idle order (and in occupancy order when a
// queue uses least_occupied; once a queue uses preserve_coverage, each class
// also counts its available agents). Both routing decisions therefore cost
// a walk over a few index heads, independent of how many agents and contacts
// the engine holds.
#ifndef CCROUTE_SERVER_CORE_DETAIL_ENGINE_IMPL_H_
#define CCROUTE_SERVER_CORE_DETAIL_ENGINE_IMPL_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "server/core/config.h"
#include "server/core/detail/rolling_window.h"
#include "server/core/detail/strings.h"
#include "server/core/engine.h"
#include "server/core/events.h"

namespace ccroute::core {
namespace detail {

using Index = uint32_t;
inline constexpr Index kNone = std::numeric_limits<Index>::max();
using SkillId = uint32_t;
// Every agent holds this pseudo-skill at the top level: the index of agents
// for classes without requirements.
inline constexpr SkillId kAnySkill = 0;

inline int64_t Ns(Time t) { return t.time_since_epoch().count(); }

// Removes the elements matching `pred` (std::erase_if for any vector-like
// container).
template <typename C, typename P>
void EraseIf(C& c, P pred) {
  c.erase(std::remove_if(c.begin(), c.end(), pred), c.end());
}

struct Req {
  SkillId skill;
  int level;
  friend bool operator==(const Req&, const Req&) = default;
  friend auto operator<=>(const Req&, const Req&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const Req& r) {
    return H::combine(std::move(h), r.skill, r.level);
  }
};
// Sorted by skill id, one entry per skill.
using ReqList = absl::InlinedVector<Req, 4>;

// A contact's place: higher priority first, then earlier arrival, then the
// order of creation.
struct ContactKey {
  int neg_priority;
  int64_t arrival;
  uint64_t seq;
  Index contact;
  friend bool operator<(const ContactKey& a, const ContactKey& b) {
    if (a.neg_priority != b.neg_priority)
      return a.neg_priority < b.neg_priority;
    if (a.arrival != b.arrival) return a.arrival < b.arrival;
    return a.seq < b.seq;
  }
};

using PositionTree =
    __gnu_pbds::tree<ContactKey, __gnu_pbds::null_type, std::less<ContactKey>,
                     __gnu_pbds::rb_tree_tag,
                     __gnu_pbds::tree_order_statistics_node_update>;

struct TimerKey {
  int64_t when = 0;
  uint64_t seq = 0;  // 0: no timer
  bool armed() const { return seq != 0; }
  friend bool operator<(const TimerKey& a, const TimerKey& b) {
    if (a.when != b.when) return a.when < b.when;
    return a.seq < b.seq;
  }
};

enum class TimerKind : uint8_t {
  kOfferTimeout,
  kEscalation,
  kPreferredEnd,
  kCallbackDue,
  kMaxWait,
  kReofferAllowed,
  kWrapUpEnd,
};

struct TimerAction {
  TimerKind kind;
  Index target;          // contact, or agent for kWrapUpEnd
  uint64_t work_id = 0;  // kWrapUpEnd
};

// An agent that declined (rejected or missed) a contact is not offered it
// again until `until`.
struct Decline {
  Index agent;
  int64_t until;
};
struct DeclinedContact {
  Index contact;
  uint64_t seq;
  int64_t until;
};

struct Contact {
  bool live = false;
  std::string id;
  uint64_t seq = 0;
  Index queue = kNone;
  std::string requested_queue;
  std::string gateway;
  Channel channel = Channel::kVoice;
  int priority = 0;
  ReqList extra;                              // interned
  std::vector<SkillRequirement> extra_named;  // as given
  std::string customer_id;
  std::string preferred_agent;
  Time preferred_until{};
  std::vector<std::pair<std::string, std::string>> attributes;
  ContactState state = ContactState::kQueued;
  Time created_at{};
  Time arrival{};  // ordering key; kept across requeue, escalation, overflow
  Time entered{};  // entry into the current queue: escalation and max wait
  Duration waited{0};  // arrival to answer, once answered
  int step = 0;        // escalation steps taken in the current queue
  Index cls = kNone;
  bool in_class = false;      // waiting in classes_[cls]
  bool reserved = false;      // waiting in the preferred agent's list
  bool max_wait_due = false;  // max wait passed while offered
  Index agent = kNone;        // offered to / assigned to
  // Restored after a restart while offered to this agent: it may reclaim
  // the contact (Engine::ReclaimContact).
  std::string reclaimable_by;
  uint64_t work_id = 0;  // the agent's work item for it
  TimerKey offer_timer, escalation_timer, preferred_timer, callback_timer,
      max_wait_timer, reoffer_timer;
  absl::InlinedVector<Decline, 2> declined;

  ContactKey Key(Index self) const {
    return {-priority, Ns(arrival), seq, self};
  }
};

enum class WorkPhase : uint8_t { kOffered, kActive, kWrapUp };

// One unit of an agent's load on a channel.
struct Work {
  uint64_t id;
  Index contact;  // kNone once the contact was transferred away
  std::string contact_id;
  Index queue;
  Channel channel;
  WorkPhase phase;
  Time assigned_at{};
  TimerKey wrap_up_timer;
};

// An agent's entry in the availability index.
struct AgentKey {
  int64_t primary;  // 0 in idle order; load share in occupancy order
  int64_t idle;
  Index agent;
  friend bool operator==(const AgentKey&, const AgentKey&) = default;
  friend bool operator<(const AgentKey& a, const AgentKey& b) {
    if (a.primary != b.primary) return a.primary < b.primary;
    if (a.idle != b.idle) return a.idle < b.idle;
    return a.agent < b.agent;
  }
};

struct Agent {
  bool live = false;
  AgentProfile profile;
  ReqList skills;  // interned, sorted by skill id
  AgentState state = AgentState::kOffline;
  std::string reason;
  Time state_since{};
  // Last routing activity: ready, accepted a contact, finished a wrap-up.
  Time idle_since{};
  std::array<int, kChannelCount> load{};
  Index offer = kNone;
  std::vector<Work> work;
  int missed_offers = 0;
  std::vector<Index> eligible_classes;
  std::vector<Index> reserved;  // contacts waiting for this agent
  absl::InlinedVector<DeclinedContact, 2> declined;
  // What the availability index holds for this agent.
  uint32_t indexed_mask = 0;
  ReqList indexed_skills;
  AgentKey indexed_idle_key{};
  std::array<AgentKey, kChannelCount> indexed_occupancy_keys{};
  // Occupancy accounting.
  Time accounted_at{};
  Duration busy{0};
  Duration idle{0};
  int64_t handled = 0;

  int level(SkillId skill) const {
    for (const Req& r : skills) {
      if (r.skill == skill) return r.level;
    }
    return 0;
  }
  int total_load() const {
    int n = 0;
    for (int l : load) n += l;
    return n;
  }
};

struct ClassKey {
  Index queue;
  Channel channel;
  ReqList reqs;
  friend bool operator==(const ClassKey&, const ClassKey&) = default;
  template <typename H>
  friend H AbslHashValue(H h, const ClassKey& k) {
    return H::combine(std::move(h), k.queue, k.channel, k.reqs);
  }
};

struct ContactClass {
  bool live = false;
  ClassKey key;
  Req primary{kAnySkill, kMaxSkillLevel};
  absl::btree_set<ContactKey> waiting;
  int refs = 0;            // contacts whose cls is this class
  int ready_agents = 0;    // READY agents eligible
  int ready_capacity = 0;  // their capacity on the channel
  // Eligible agents in the availability index for the class's channel;
  // counted only while available_counted (see Engine::Impl), else 0.
  int available_agents = 0;
};

// What decision 2 needs of a class, kept apart from the class so that an
// agent's scan over its eligible classes reads one small record per class:
// the first waiting contact, and the queue's service-level target.
struct ClassHead {
  ContactKey key{};
  Duration target{0};
  Channel channel = Channel::kVoice;
  bool waiting = false;  // the class has waiting contacts; key is the first
};

struct Queue {
  bool live = false;
  QueueConfig config;
  std::vector<ReqList> step_reqs;  // [0]: base; [k]: after escalation step k
  std::vector<Req> step_primary;
  // Class of contacts without extra requirements, per step and channel.
  std::vector<std::array<Index, kChannelCount>> class_cache;
  PositionTree positions;  // queued and offered contacts
  absl::btree_set<std::pair<int64_t, uint64_t>> by_arrival;
  int offered_now = 0;
  int scheduled = 0;
  int live_contacts = 0;
  QueueStats totals;  // the counters; the rest is filled on demand
  RollingWindow window;

  Queue(Duration window_span, int buckets) : window(window_span, buckets) {}
};

// Agents that can take work on a channel, per skill and level.
using AgentSet = absl::btree_set<AgentKey>;
struct LevelBuckets {
  std::array<AgentSet, kMaxSkillLevel> by_level;
};
enum Ordering { kByIdle = 0, kByOccupancy = 1 };

// What is kept of an ended contact so that a retried create or a late
// lookup gets an answer: no attributes, nothing personal.
struct EndedContact {
  std::string requested_queue;  // as the gateway named it
  std::string gateway;
  std::string queue;  // where it ended
  std::string agent_id;
  Channel channel;
  int priority;
  int step;
  EndReason reason;
  Time created_at, arrived_at, ended_at;
};

}  // namespace detail

struct Engine::Impl {
  using Index = detail::Index;

  Impl(EngineLimits limits, RoutingPolicy policy);

  // State.
  EngineLimits limits;
  RoutingPolicy policy;
  Time now{};
  std::vector<Event> events;
  uint64_t next_seq = 1;

  // Skill names are interned while something holds them: a live agent, a
  // live queue's requirements (any step), a live contact's own requirements
  // or a live requirement class. An id nothing holds is freed (its name
  // emptied, the id reused) only when a new name would pass
  // limits.max_skills, at the start of a command.
  detail::StringMap<detail::SkillId> skill_ids;
  std::vector<std::string> skill_names;  // [id]; "" for a free id
  std::vector<uint32_t> skill_refs;      // [id]: holders, as above
  std::vector<detail::SkillId> free_skill_ids;

  std::vector<std::unique_ptr<detail::Queue>> queues;
  detail::StringMap<Index> queue_by_name;

  std::vector<detail::Agent> agents;
  detail::StringMap<Index> agent_by_id;

  std::vector<detail::Contact> contacts;
  std::vector<Index> free_contacts;
  detail::StringMap<Index> contact_by_id;
  size_t live_contact_count = 0;

  std::vector<detail::ContactClass> classes;
  std::vector<Index> free_classes;
  absl::flat_hash_map<detail::ClassKey, Index> class_by_key;
  // Parallel to `classes`; refreshed whenever a class's waiting set or its
  // queue's target changes.
  std::vector<detail::ClassHead> class_heads;
  size_t live_class_count = 0;

  // [ordering][channel][skill]
  std::array<std::array<std::vector<detail::LevelBuckets>, kChannelCount>, 2>
      agent_index;
  bool occupancy_index_enabled = false;
  // Whether agents are also indexed under kAnySkill: only needed once a
  // class without requirements exists, and the largest set to keep up.
  bool any_skill_indexed = false;
  // Every live agent holding each skill, at any level, in no order: a new
  // class looks for its agents among the holders of its rarest skill.
  std::vector<std::vector<Index>> agents_by_skill;
  // Whether classes count their available agents: once a queue uses
  // preserve_coverage, the only reader.
  bool available_counted = false;

  absl::btree_map<detail::TimerKey, detail::TimerAction> timers;

  detail::StringMap<detail::EndedContact> ended;
  std::deque<std::pair<Time, std::string>> ended_order;

  struct RememberedAgent {
    std::string agent_id;
    uint64_t stamp;
  };
  detail::StringMap<RememberedAgent> last_agent;
  std::deque<std::pair<std::string, uint64_t>> last_agent_order;

  // Time and timers.
  void Advance(Time t);
  detail::TimerKey Arm(Time when, detail::TimerAction action);
  void Disarm(detail::TimerKey& key);
  void Fire(const detail::TimerAction& action);
  void ExpireEndedRecords();

  // Interning.
  absl::StatusOr<detail::ReqList> Intern(
      const std::vector<SkillRequirement>& reqs);
  // OK if `names` can be interned within limits.max_skills, else
  // RESOURCE_EXHAUSTED; frees the ids nothing holds first if they would not
  // fit. Call before any change of the command.
  absl::Status CanIntern(const std::vector<std::string_view>& names);
  detail::SkillId InternName(std::string_view name);
  // Adds `sign` (+1 or -1) to the holders of each skill in `reqs`.
  void HoldSkills(const detail::ReqList& reqs, int sign);
  void FreeUnheldSkills();
  size_t SkillsInUse() const {
    return skill_names.size() - 1 - free_skill_ids.size();
  }

  // Classes.
  detail::ReqList EffectiveReqs(const detail::Queue& q, int step,
                                const detail::Contact& c) const;
  Index ClassFor(const detail::Contact& c);
  Index GetOrCreateClass(Index queue, Channel channel, detail::ReqList reqs,
                         detail::Req primary);
  bool Satisfies(const detail::Agent& a, const detail::ReqList& reqs) const;
  bool EligibleFor(const detail::Agent& a, const detail::ContactClass& k) const;
  void SetClass(detail::Contact& c, Index cls);
  void RefreshHead(Index cls);
  void SweepClasses(bool only_dead_queues);
  void RebuildEligibleClasses(Index agent);
  void AddReadyContribution(Index agent, int sign);

  // Agent index.
  // Whether the agent's capacity leaves room for one more contact on `ch`
  // (voice blocking included), whatever its state.
  static bool HasRoom(const detail::Agent& a, Channel ch);
  // READY, without an open offer, and with room on `ch`.
  bool Available(const detail::Agent& a, Channel ch) const;
  uint32_t AvailableMask(const detail::Agent& a) const;
  detail::AgentKey OccupancyKey(const detail::Agent& a, Channel ch) const;
  void Reindex(Index agent);
  void Unindex(Index agent);
  void IndexInsert(int ordering, Channel ch, const detail::ReqList& skills,
                   const detail::AgentKey& key);
  void IndexErase(int ordering, Channel ch, const detail::ReqList& skills,
                  const detail::AgentKey& key);
  void EnableOccupancyIndex();
  void EnableAvailableCounts();
  // Adds `sign` to the available count of each of the agent's eligible
  // classes on a channel in `mask`.
  void CountAvailable(const detail::Agent& a, uint32_t mask, int sign);
  void EnableAnySkillIndex();
  void AddToSkillRoster(Index agent);
  void RemoveFromSkillRoster(Index agent);
  Index FindAgent(Index contact);
  // preserve_coverage's measure of taking `agent` for a contact of class
  // `cls`: the fewest available agents left to any other class the agent
  // qualifies for on the channel (INT_MAX if none).
  int CoverageLeft(const detail::Agent& agent, Index cls) const;

  // Contacts.
  Index AllocateContact();
  // A new live contact from `r` in queue `queue` (its state, place and
  // timers still to set), registered by id and counted in the queue.
  Index NewContact(const ContactRequest& r, Index queue, detail::ReqList extra,
                   Time created_at);
  void EnterQueue(Index c, Index queue, Time arrival, Time entered);
  void LeaveQueue(Index c);
  void PlaceRoutable(Index c);
  void Unplace(Index c);
  void EndReservation(Index c);
  void Route(Index c);
  void Offer(Index c, Index agent);
  void ReleaseOffer(Index c, EventKind why);
  // Withdraws the contact's open offer if its agent no longer meets the
  // contact's requirements (they changed under it); the contact is left
  // queued and unplaced. Returns the freed agent, or kNone.
  Index WithdrawUnqualifiedOffer(Index c);
  void Requeue(Index c);
  void ExpireOrOverflow(Index c);
  void EndContact(Index c, EndReason reason);
  bool IsDeclined(const detail::Contact& c, Index agent) const;
  void AddDecline(Index c, Index agent);
  // `full`: with position, estimated wait, customer id and attributes.
  ContactView View(Index c, bool full = true) const;
  // A live or remembered ended contact; NOT_FOUND otherwise.
  absl::StatusOr<ContactView> FindContact(std::string_view id, bool full) const;
  ContactView EndedView(std::string_view id,
                        const detail::EndedContact& e) const;
  // After a command that may have ended contact `id`: its view, live or
  // ended.
  ContactView LatestView(std::string_view id) const;
  // Contact `c`, queued or offered to `a` (its work item already active),
  // is answered by agent `a`: it leaves its queue and counts as answered.
  void Answered(Index c, Index a);
  // Agent `a`'s assigned contact (work item `w`) goes back to its queue at
  // its original place and is routed.
  void ReturnToQueue(Index a, const detail::Work& w);
  std::optional<Duration> EstimatedWait(const detail::Queue& q,
                                        const detail::ContactClass& k,
                                        int position) const;
  void RememberAgent(const std::string& customer, const std::string& agent);
  detail::Queue* FindQueue(std::string_view name);

  // Agents.
  void Serve(Index agent);
  void Account(detail::Agent& a);
  void SetAgentState(Index agent, AgentState state, std::string_view reason);
  void FinishWrapUp(Index agent, uint64_t work_id);
  detail::Work* FindWork(detail::Agent& a, uint64_t work_id);
  void ChangeLoad(detail::Agent& a, Channel ch, int delta);
  absl::StatusOr<Index> FindLoggedInAgent(std::string_view id);
  absl::StatusOr<Index> FindAgentContact(Index agent, std::string_view id,
                                         ContactState state,
                                         std::string_view action);

  // Events.
  Event& Emit(EventKind kind, const detail::Contact* c);
  Event& EmitAgent(EventKind kind, const detail::Agent& a);

  // Statistics.
  QueueStats StatsFor(Index queue);
  AgentStats AgentStatsFor(Index agent);

  absl::Status CheckInvariants() const;
};

}  // namespace ccroute::core

#endif  // CCROUTE_SERVER_CORE_DETAIL_ENGINE_IMPL_H_
