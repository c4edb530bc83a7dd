#include "server/core/engine.h"

#include <algorithm>
#include <cassert>
#include <utility>

#include "server/core/detail/engine_impl.h"

namespace ccroute::core {

using detail::Agent;
using detail::AgentKey;
using detail::ClassKey;
using detail::Contact;
using detail::ContactClass;
using detail::ContactKey;
using detail::Index;
using detail::kAnySkill;
using detail::kNone;
using detail::Ns;
using detail::Queue;
using detail::Req;
using detail::ReqList;
using detail::SkillId;
using detail::TimerAction;
using detail::TimerKey;
using detail::TimerKind;
using detail::Work;
using detail::WorkPhase;

namespace {

constexpr uint32_t Bit(Channel ch) { return 1u << static_cast<int>(ch); }

// preserve_coverage weighs at most this many eligible agents, the longest
// idle first: enough to find the one that spares the scarcest skills when
// few agents are free (when it matters), at a cost that stays bounded when
// many are.
constexpr int kCoverageCandidates = 16;

Time FromNs(int64_t ns) { return Time(Duration(ns)); }

// Merges `extra` into `base` (both sorted by skill), keeping the higher
// level where both name a skill.
ReqList Merge(const ReqList& base, const ReqList& extra) {
  ReqList out;
  size_t i = 0, j = 0;
  while (i < base.size() || j < extra.size()) {
    if (j == extra.size() ||
        (i < base.size() && base[i].skill < extra[j].skill)) {
      out.push_back(base[i++]);
    } else if (i == base.size() || extra[j].skill < base[i].skill) {
      out.push_back(extra[j++]);
    } else {
      out.push_back({base[i].skill, std::max(base[i].level, extra[j].level)});
      ++i;
      ++j;
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Construction, time and timers.

Engine::Impl::Impl(EngineLimits l, RoutingPolicy p) : limits(l), policy(p) {
  skill_names.push_back("*");  // kAnySkill
  skill_refs.push_back(0);
}

TimerKey Engine::Impl::Arm(Time when, TimerAction action) {
  TimerKey key{Ns(std::max(when, now)), next_seq++};
  timers.emplace(key, action);
  return key;
}

void Engine::Impl::Disarm(TimerKey& key) {
  if (!key.armed()) return;
  timers.erase(key);
  key = {};
}

void Engine::Impl::Advance(Time t) {
  if (t < now) t = now;
  while (!timers.empty() && timers.begin()->first.when <= Ns(t)) {
    auto node = timers.extract(timers.begin());
    now = std::max(now, FromNs(node.key().when));
    Fire(node.mapped());
  }
  now = t;
  ExpireEndedRecords();
}

void Engine::Impl::ExpireEndedRecords() {
  while (!ended_order.empty() &&
         (ended_order.front().first + limits.idempotency_retention <= now ||
          ended.size() > limits.max_remembered_ended)) {
    auto it = ended.find(ended_order.front().second);
    if (it != ended.end() && it->second.ended_at == ended_order.front().first) {
      ended.erase(it);
    }
    ended_order.pop_front();
  }
}

void Engine::Impl::Fire(const TimerAction& action) {
  switch (action.kind) {
    case TimerKind::kOfferTimeout: {
      Contact& c = contacts[action.target];
      c.offer_timer = {};
      Index a = c.agent;
      Emit(EventKind::kOfferTimedOut, &c).agent_id = agents[a].profile.id;
      queues[c.queue]->totals.offers_timed_out++;
      AddDecline(action.target, a);
      ReleaseOffer(action.target, EventKind::kOfferTimedOut);
      Agent& agent = agents[a];
      agent.missed_offers++;
      if (policy.max_missed_offers > 0 &&
          agent.missed_offers >= policy.max_missed_offers &&
          agent.state == AgentState::kReady) {
        SetAgentState(a, AgentState::kNotReady, "missed offers");
      }
      Requeue(action.target);
      Serve(a);
      return;
    }
    case TimerKind::kEscalation: {
      Index ci = action.target;
      Contact& c = contacts[ci];
      c.escalation_timer = {};
      const Queue& q = *queues[c.queue];
      c.step++;
      if (c.step < static_cast<int>(q.config.escalation.size())) {
        c.escalation_timer = Arm(c.entered + q.config.escalation[c.step].after,
                                 {TimerKind::kEscalation, ci});
      }
      // Same key in a wider class: the contact keeps its place.
      bool was_in_class = c.in_class;
      if (was_in_class) Unplace(ci);
      SetClass(c, ClassFor(c));
      if (was_in_class) {
        c.in_class = true;
        classes[c.cls].waiting.insert(c.Key(ci));
        RefreshHead(c.cls);
      }
      Emit(EventKind::kContactEscalated, &c);
      if (was_in_class) {
        Route(ci);
      } else if (c.reserved &&
                 !EligibleFor(agents[agent_by_id.at(c.preferred_agent)],
                              classes[c.cls])) {
        // The step asks for skills the preferred agent lacks.
        EndReservation(ci);
      } else if (Index ai = WithdrawUnqualifiedOffer(ci); ai != kNone) {
        // ... or that the agent it is offered to lacks.
        Requeue(ci);
        Serve(ai);
      }
      return;
    }
    case TimerKind::kPreferredEnd: {
      Contact& c = contacts[action.target];
      c.preferred_timer = {};
      c.preferred_until = now;
      if (c.reserved) EndReservation(action.target);
      return;
    }
    case TimerKind::kCallbackDue: {
      Index ci = action.target;
      Contact& c = contacts[ci];
      c.callback_timer = {};
      queues[c.queue]->scheduled--;
      EnterQueue(ci, c.queue, now, now);
      Emit(EventKind::kContactQueued, &contacts[ci]);
      Route(ci);
      return;
    }
    case TimerKind::kMaxWait: {
      Contact& c = contacts[action.target];
      c.max_wait_timer = {};
      if (c.state == ContactState::kOffered) {
        c.max_wait_due = true;
      } else {
        ExpireOrOverflow(action.target);
      }
      return;
    }
    case TimerKind::kReofferAllowed: {
      Index ci = action.target;
      Contact& c = contacts[ci];
      c.reoffer_timer = {};
      int64_t next = INT64_MAX;
      detail::EraseIf(c.declined, [&](const detail::Decline& d) {
        if (d.until <= Ns(now)) return true;
        next = std::min(next, d.until);
        return false;
      });
      if (next != INT64_MAX) {
        c.reoffer_timer = Arm(FromNs(next), {TimerKind::kReofferAllowed, ci});
      }
      if (c.state == ContactState::kQueued) Route(ci);
      return;
    }
    case TimerKind::kWrapUpEnd: {
      Work* w = FindWork(agents[action.target], action.work_id);
      assert(w != nullptr);
      w->wrap_up_timer = {};
      FinishWrapUp(action.target, action.work_id);
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Skills and requirement classes.

SkillId Engine::Impl::InternName(std::string_view name) {
  auto it = skill_ids.find(name);
  if (it != skill_ids.end()) return it->second;
  SkillId id;
  if (!free_skill_ids.empty()) {
    id = free_skill_ids.back();
    free_skill_ids.pop_back();
    skill_names[id] = std::string(name);
  } else {
    id = static_cast<SkillId>(skill_names.size());
    skill_names.emplace_back(name);
    skill_refs.push_back(0);
  }
  skill_ids.emplace(std::string(name), id);
  return id;
}

absl::Status Engine::Impl::CanIntern(
    const std::vector<std::string_view>& names) {
  size_t fresh = 0;
  for (std::string_view n : names) fresh += skill_ids.contains(n) ? 0 : 1;
  if (SkillsInUse() + fresh <= limits.max_skills) return absl::OkStatus();
  FreeUnheldSkills();
  if (SkillsInUse() + fresh <= limits.max_skills) return absl::OkStatus();
  return absl::ResourceExhaustedError(detail::Cat(
      "more than ", limits.max_skills, " distinct skill names in use"));
}

void Engine::Impl::HoldSkills(const ReqList& reqs, int sign) {
  for (const Req& r : reqs) {
    assert(r.skill != kAnySkill && r.skill < skill_refs.size());
    assert(sign > 0 || skill_refs[r.skill] > 0);
    skill_refs[r.skill] += sign;
  }
}

void Engine::Impl::FreeUnheldSkills() {
  // Empty classes still hold their requirements' names.
  SweepClasses(false);
  for (SkillId id = 1; id < skill_names.size(); ++id) {
    if (skill_refs[id] != 0 || skill_names[id].empty()) continue;
    // Nothing holds it, so no agent is indexed or rostered under it.
    skill_ids.erase(skill_names[id]);
    skill_names[id].clear();
    free_skill_ids.push_back(id);
  }
}

absl::StatusOr<ReqList> Engine::Impl::Intern(
    const std::vector<SkillRequirement>& reqs) {
  std::vector<std::string_view> names;
  for (const auto& r : reqs) names.push_back(r.skill);
  if (auto st = CanIntern(names); !st.ok()) return st;
  ReqList out;
  for (const auto& r : reqs) out.push_back({InternName(r.skill), r.min_level});
  std::sort(out.begin(), out.end());
  return out;
}

ReqList Engine::Impl::EffectiveReqs(const Queue& q, int step,
                                    const Contact& c) const {
  const ReqList& base = q.step_reqs[step];
  bool drop =
      step > 0 && q.config.escalation[step - 1].drop_contact_requirements;
  if (drop || c.extra.empty()) return base;
  return Merge(base, c.extra);
}

Index Engine::Impl::ClassFor(const Contact& c) {
  Queue& q = *queues[c.queue];
  bool drop =
      c.step > 0 && q.config.escalation[c.step - 1].drop_contact_requirements;
  int ch = static_cast<int>(c.channel);
  if (c.extra.empty() || drop) {
    Index& cached = q.class_cache[c.step][ch];
    if (cached == kNone) {
      cached = GetOrCreateClass(c.queue, c.channel, q.step_reqs[c.step],
                                q.step_primary[c.step]);
    }
    return cached;
  }
  Req primary = q.step_primary[c.step];
  if (primary.skill == kAnySkill) primary = c.extra.front();
  return GetOrCreateClass(c.queue, c.channel, EffectiveReqs(q, c.step, c),
                          primary);
}

Index Engine::Impl::GetOrCreateClass(Index queue, Channel channel, ReqList reqs,
                                     Req primary) {
  ClassKey key{queue, channel, std::move(reqs)};
  auto it = class_by_key.find(key);
  if (it != class_by_key.end()) return it->second;
  if (live_class_count >= limits.max_requirement_classes) {
    SweepClasses(false);
  }
  Index idx;
  if (!free_classes.empty()) {
    idx = free_classes.back();
    free_classes.pop_back();
  } else {
    idx = static_cast<Index>(classes.size());
    classes.emplace_back();
  }
  ContactClass& k = classes[idx];
  k = ContactClass{};
  k.live = true;
  k.key = key;
  HoldSkills(k.key.reqs, +1);
  // The primary skill is the class's own version of the requirement.
  k.primary = {kAnySkill, kMaxSkillLevel};
  for (const Req& r : k.key.reqs) {
    if (r.skill == primary.skill) k.primary = r;
  }
  if (k.primary.skill == kAnySkill && !k.key.reqs.empty()) {
    k.primary = k.key.reqs.front();
  }
  class_by_key.emplace(std::move(key), idx);
  live_class_count++;
  RefreshHead(idx);
  // A new class is rare (a new requirement combination). Its agents are
  // among the holders of its rarest skill; a class without requirements
  // takes every agent, and needs the kAnySkill index to find them.
  auto add = [&](Index a) {
    Agent& agent = agents[a];
    if (!agent.live || !EligibleFor(agent, k)) return;
    agent.eligible_classes.push_back(idx);
    if (available_counted && (agent.indexed_mask & Bit(channel))) {
      k.available_agents++;
    }
    if (agent.state == AgentState::kReady) {
      k.ready_agents++;
      k.ready_capacity += agent.profile.capacity[static_cast<int>(channel)];
    }
  };
  if (k.key.reqs.empty()) {
    EnableAnySkillIndex();
    for (Index a = 0; a < agents.size(); ++a) add(a);
    return idx;
  }
  const std::vector<Index>* roster = nullptr;
  for (const Req& r : k.key.reqs) {
    if (r.skill >= agents_by_skill.size()) return idx;  // nobody holds it
    if (roster == nullptr || agents_by_skill[r.skill].size() < roster->size()) {
      roster = &agents_by_skill[r.skill];
    }
  }
  for (Index a : *roster) add(a);
  return idx;
}

void Engine::Impl::AddToSkillRoster(Index ai) {
  for (const Req& r : agents[ai].skills) {
    if (agents_by_skill.size() <= r.skill) agents_by_skill.resize(r.skill + 1);
    agents_by_skill[r.skill].push_back(ai);
  }
}

void Engine::Impl::RemoveFromSkillRoster(Index ai) {
  for (const Req& r : agents[ai].skills)
    std::erase(agents_by_skill[r.skill], ai);
}

bool Engine::Impl::Satisfies(const Agent& a, const ReqList& reqs) const {
  // Both lists are sorted by skill: one merge pass.
  size_t i = 0;
  for (const Req& r : reqs) {
    while (i < a.skills.size() && a.skills[i].skill < r.skill) ++i;
    if (i == a.skills.size() || a.skills[i].skill != r.skill ||
        a.skills[i].level < r.level) {
      return false;
    }
  }
  return true;
}

bool Engine::Impl::EligibleFor(const Agent& a, const ContactClass& k) const {
  return a.profile.capacity[static_cast<int>(k.key.channel)] > 0 &&
         Satisfies(a, k.key.reqs);
}

void Engine::Impl::SetClass(Contact& c, Index cls) {
  if (c.cls == cls) return;
  if (c.cls != kNone) classes[c.cls].refs--;
  c.cls = cls;
  if (cls != kNone) classes[cls].refs++;
}

void Engine::Impl::SweepClasses(bool only_dead_queues) {
  bool any = false;
  for (Index i = 0; i < classes.size(); ++i) {
    ContactClass& k = classes[i];
    if (!k.live || k.refs > 0) continue;
    if (only_dead_queues && queues[k.key.queue]->live) continue;
    assert(k.waiting.empty());
    class_by_key.erase(k.key);
    k.live = false;
    HoldSkills(k.key.reqs, -1);
    k.key.reqs.clear();
    k.available_agents = 0;
    RefreshHead(i);
    free_classes.push_back(i);
    live_class_count--;
    any = true;
  }
  if (!any) return;
  for (auto& q : queues) {
    if (!q) continue;
    for (auto& row : q->class_cache) row.fill(kNone);
  }
  for (Agent& a : agents) {
    std::erase_if(a.eligible_classes,
                  [&](Index k) { return !classes[k].live; });
  }
}

void Engine::Impl::RebuildEligibleClasses(Index ai) {
  Agent& a = agents[ai];
  CountAvailable(a, a.indexed_mask, -1);
  a.eligible_classes.clear();
  for (Index k = 0; k < classes.size(); ++k) {
    if (classes[k].live && EligibleFor(a, classes[k])) {
      a.eligible_classes.push_back(k);
    }
  }
  CountAvailable(a, a.indexed_mask, +1);
}

void Engine::Impl::CountAvailable(const Agent& a, uint32_t mask, int sign) {
  if (!available_counted || mask == 0) return;
  for (Index k : a.eligible_classes) {
    ContactClass& cls = classes[k];
    if (mask & Bit(cls.key.channel)) cls.available_agents += sign;
  }
}

void Engine::Impl::AddReadyContribution(Index ai, int sign) {
  Agent& a = agents[ai];
  for (Index k : a.eligible_classes) {
    ContactClass& cls = classes[k];
    cls.ready_agents += sign;
    cls.ready_capacity +=
        sign * a.profile.capacity[static_cast<int>(cls.key.channel)];
  }
}

// ---------------------------------------------------------------------------
// The agent availability index.

bool Engine::Impl::HasRoom(const Agent& a, Channel ch) {
  int c = static_cast<int>(ch);
  if (a.load[c] >= a.profile.capacity[c]) return false;
  if (a.profile.voice_blocks_other_channels) {
    int voice = a.load[static_cast<int>(Channel::kVoice)] +
                a.load[static_cast<int>(Channel::kCallback)];
    if (voice > 0) return false;
    if (IsVoiceLike(ch) && a.total_load() > 0) return false;
  }
  return true;
}

bool Engine::Impl::Available(const Agent& a, Channel ch) const {
  return a.state == AgentState::kReady && a.offer == kNone && HasRoom(a, ch);
}

uint32_t Engine::Impl::AvailableMask(const Agent& a) const {
  if (a.state != AgentState::kReady || a.offer != kNone) return 0;
  uint32_t mask = 0;
  for (int c = 0; c < kChannelCount; ++c) {
    if (Available(a, static_cast<Channel>(c))) mask |= 1u << c;
  }
  return mask;
}

AgentKey Engine::Impl::OccupancyKey(const Agent& a, Channel ch) const {
  int c = static_cast<int>(ch);
  int cap = std::max(1, a.profile.capacity[c]);
  return {static_cast<int64_t>(a.load[c]) * 1'000'000 / cap, Ns(a.idle_since),
          static_cast<Index>(&a - agents.data())};
}

void Engine::Impl::IndexInsert(int ordering, Channel ch, const ReqList& skills,
                               const AgentKey& key) {
  auto& by_skill = agent_index[ordering][static_cast<int>(ch)];
  auto insert = [&](SkillId s, int level) {
    if (by_skill.size() <= s) by_skill.resize(skill_names.size());
    by_skill[s].by_level[level - 1].insert(key);
  };
  if (any_skill_indexed) insert(kAnySkill, kMaxSkillLevel);
  for (const Req& r : skills) insert(r.skill, r.level);
}

void Engine::Impl::IndexErase(int ordering, Channel ch, const ReqList& skills,
                              const AgentKey& key) {
  auto& by_skill = agent_index[ordering][static_cast<int>(ch)];
  if (any_skill_indexed) {
    by_skill[kAnySkill].by_level[kMaxSkillLevel - 1].erase(key);
  }
  for (const Req& r : skills)
    by_skill[r.skill].by_level[r.level - 1].erase(key);
}

void Engine::Impl::Unindex(Index ai) {
  Agent& a = agents[ai];
  for (int c = 0; c < kChannelCount; ++c) {
    if (!(a.indexed_mask & (1u << c))) continue;
    Channel ch = static_cast<Channel>(c);
    IndexErase(detail::kByIdle, ch, a.indexed_skills, a.indexed_idle_key);
    if (occupancy_index_enabled) {
      IndexErase(detail::kByOccupancy, ch, a.indexed_skills,
                 a.indexed_occupancy_keys[c]);
    }
  }
  CountAvailable(a, a.indexed_mask, -1);
  a.indexed_mask = 0;
}

void Engine::Impl::Reindex(Index ai) {
  Agent& a = agents[ai];
  uint32_t mask = a.live ? AvailableMask(a) : 0;
  AgentKey idle_key{0, Ns(a.idle_since), ai};
  bool skills_same = a.indexed_skills == a.skills;
  for (int c = 0; c < kChannelCount; ++c) {
    Channel ch = static_cast<Channel>(c);
    bool was = a.indexed_mask & (1u << c);
    bool is = mask & (1u << c);
    AgentKey occ_key =
        occupancy_index_enabled ? OccupancyKey(a, ch) : AgentKey{};
    if (was && is && skills_same && a.indexed_idle_key == idle_key &&
        (!occupancy_index_enabled || a.indexed_occupancy_keys[c] == occ_key)) {
      continue;
    }
    if (was) {
      IndexErase(detail::kByIdle, ch, a.indexed_skills, a.indexed_idle_key);
      if (occupancy_index_enabled) {
        IndexErase(detail::kByOccupancy, ch, a.indexed_skills,
                   a.indexed_occupancy_keys[c]);
      }
    }
    if (is) {
      IndexInsert(detail::kByIdle, ch, a.skills, idle_key);
      if (occupancy_index_enabled) {
        IndexInsert(detail::kByOccupancy, ch, a.skills, occ_key);
      }
      a.indexed_occupancy_keys[c] = occ_key;
    }
  }
  CountAvailable(a, a.indexed_mask & ~mask, -1);
  CountAvailable(a, mask & ~a.indexed_mask, +1);
  a.indexed_mask = mask;
  a.indexed_idle_key = idle_key;
  a.indexed_skills = a.skills;
}

void Engine::Impl::EnableOccupancyIndex() {
  if (occupancy_index_enabled) return;
  for (Index ai = 0; ai < agents.size(); ++ai) Unindex(ai);
  occupancy_index_enabled = true;
  for (Index ai = 0; ai < agents.size(); ++ai) Reindex(ai);
}

void Engine::Impl::EnableAvailableCounts() {
  if (available_counted) return;
  available_counted = true;
  for (const Agent& a : agents) CountAvailable(a, a.indexed_mask, +1);
}

void Engine::Impl::EnableAnySkillIndex() {
  if (any_skill_indexed) return;
  for (Index ai = 0; ai < agents.size(); ++ai) Unindex(ai);
  any_skill_indexed = true;
  for (Index ai = 0; ai < agents.size(); ++ai) Reindex(ai);
}

Index Engine::Impl::FindAgent(Index ci) {
  const Contact& c = contacts[ci];
  const ContactClass& k = classes[c.cls];
  AgentSelection selection = queues[c.queue]->config.agent_selection;
  int ch = static_cast<int>(k.key.channel);

  // Walk the agents holding one of the class's skills (the most selective,
  // or the primary one for most_skilled), and take the first that meets
  // the other requirements and has not declined the contact.
  Req drive{kAnySkill, kMaxSkillLevel};
  int ordering = selection == AgentSelection::kLeastOccupied
                     ? detail::kByOccupancy
                     : detail::kByIdle;
  auto& by_skill = agent_index[ordering][ch];
  auto bucket_count = [&](const Req& r) {
    if (r.skill >= by_skill.size()) return size_t{0};
    size_t n = 0;
    for (int l = r.level; l <= kMaxSkillLevel; ++l) {
      n += by_skill[r.skill].by_level[l - 1].size();
    }
    return n;
  };
  if (selection == AgentSelection::kMostSkilled) {
    drive = k.primary;
  } else if (!k.key.reqs.empty()) {
    size_t best = SIZE_MAX;
    for (const Req& r : k.key.reqs) {
      size_t n = bucket_count(r);
      if (n < best) best = n, drive = r;
    }
  }
  if (drive.skill >= by_skill.size()) return kNone;
  auto& buckets = by_skill[drive.skill].by_level;
  auto acceptable = [&](const AgentKey& key) {
    const Agent& a = agents[key.agent];
    return Satisfies(a, k.key.reqs) && !IsDeclined(c, key.agent);
  };

  if (selection == AgentSelection::kMostSkilled) {
    for (int l = kMaxSkillLevel; l >= drive.level; --l) {
      for (const AgentKey& key : buckets[l - 1]) {
        if (acceptable(key)) return key.agent;
      }
    }
    return kNone;
  }
  // Merge the level buckets >= the required level in key order.
  struct Cursor {
    detail::AgentSet::const_iterator it, end;
  };
  absl::InlinedVector<Cursor, kMaxSkillLevel> cursors;
  for (int l = drive.level; l <= kMaxSkillLevel; ++l) {
    const auto& set = buckets[l - 1];
    if (!set.empty()) cursors.push_back({set.begin(), set.end()});
  }
  // preserve_coverage: of the first eligible agents in idle order, the one
  // that leaves the most agents available to its other classes; ties go to
  // the longest idle.
  const bool coverage = selection == AgentSelection::kPreserveCoverage;
  Index pick = kNone;
  int pick_left = 0;
  int weighed = 0;
  while (true) {
    Cursor* best = nullptr;
    for (Cursor& cur : cursors) {
      if (cur.it != cur.end && (best == nullptr || *cur.it < *best->it)) {
        best = &cur;
      }
    }
    if (best == nullptr) return pick;
    if (acceptable(*best->it)) {
      if (!coverage) return best->it->agent;
      int left = CoverageLeft(agents[best->it->agent], c.cls);
      if (pick == kNone || left > pick_left) {
        pick = best->it->agent;
        pick_left = left;
      }
      if (++weighed == kCoverageCandidates ||
          pick_left == std::numeric_limits<int>::max()) {
        return pick;
      }
    }
    ++best->it;
  }
}

// Taking an agent leaves each other class it qualifies for on the channel
// with one available agent fewer; the scarcest of them measures the cost.
// An agent who is the last one available for some class costs the most
// (0 left), one qualified for nothing else costs nothing.
int Engine::Impl::CoverageLeft(const Agent& a, Index cls) const {
  const Channel ch = classes[cls].key.channel;
  int left = std::numeric_limits<int>::max();
  for (Index k : a.eligible_classes) {
    if (k == cls || classes[k].key.channel != ch) continue;
    left = std::min(left, classes[k].available_agents - 1);
  }
  return left;
}

// ---------------------------------------------------------------------------
// Contacts: placement, routing, offers.

Index Engine::Impl::NewContact(const ContactRequest& r, Index queue,
                               detail::ReqList extra, Time created_at) {
  Index ci = AllocateContact();
  Contact& c = contacts[ci];
  c.id = r.id;
  c.requested_queue = r.queue;
  c.gateway = r.gateway;
  c.queue = queue;
  c.channel = r.channel;
  c.priority = r.priority;
  c.extra = std::move(extra);
  HoldSkills(c.extra, +1);
  c.extra_named = r.requirements;
  c.customer_id = r.customer_id;
  c.attributes = r.attributes;
  c.created_at = created_at;
  contact_by_id.emplace(c.id, ci);
  queues[queue]->live_contacts++;
  return ci;
}

Index Engine::Impl::AllocateContact() {
  Index idx;
  if (!free_contacts.empty()) {
    idx = free_contacts.back();
    free_contacts.pop_back();
  } else {
    idx = static_cast<Index>(contacts.size());
    contacts.emplace_back();
  }
  contacts[idx] = Contact{};
  contacts[idx].live = true;
  contacts[idx].seq = next_seq++;
  live_contact_count++;
  return idx;
}

void Engine::Impl::EnterQueue(Index ci, Index qi, Time arrival, Time entered) {
  Contact& c = contacts[ci];
  Queue& q = *queues[qi];
  c.queue = qi;
  c.state = ContactState::kQueued;
  c.arrival = arrival;
  c.entered = entered;
  c.step = 0;
  q.positions.insert(c.Key(ci));
  q.by_arrival.insert({Ns(arrival), c.seq});
  if (!q.config.escalation.empty()) {
    c.escalation_timer = Arm(entered + q.config.escalation[0].after,
                             {TimerKind::kEscalation, ci});
  }
  if (q.config.max_wait > Duration::zero()) {
    c.max_wait_timer =
        Arm(entered + q.config.max_wait, {TimerKind::kMaxWait, ci});
  }
  SetClass(c, ClassFor(c));
  PlaceRoutable(ci);
}

void Engine::Impl::LeaveQueue(Index ci) {
  Contact& c = contacts[ci];
  Queue& q = *queues[c.queue];
  if (c.in_class || c.reserved) Unplace(ci);
  if (c.state == ContactState::kQueued || c.state == ContactState::kOffered) {
    q.positions.erase(c.Key(ci));
    q.by_arrival.erase({Ns(c.arrival), c.seq});
  }
  Disarm(c.escalation_timer);
  Disarm(c.max_wait_timer);
  Disarm(c.preferred_timer);
  SetClass(c, kNone);
  c.max_wait_due = false;
}

void Engine::Impl::PlaceRoutable(Index ci) {
  Contact& c = contacts[ci];
  assert(c.state == ContactState::kQueued && !c.in_class && !c.reserved);
  if (!c.preferred_agent.empty() && now < c.preferred_until) {
    auto it = agent_by_id.find(c.preferred_agent);
    if (it != agent_by_id.end()) {
      Index ai = it->second;
      Agent& a = agents[ai];
      if (a.state != AgentState::kOffline && EligibleFor(a, classes[c.cls]) &&
          !IsDeclined(c, ai)) {
        c.reserved = true;
        a.reserved.push_back(ci);
        if (!c.preferred_timer.armed()) {
          c.preferred_timer =
              Arm(c.preferred_until, {TimerKind::kPreferredEnd, ci});
        }
        return;
      }
    }
  }
  c.in_class = true;
  classes[c.cls].waiting.insert(c.Key(ci));
  RefreshHead(c.cls);
}

void Engine::Impl::Unplace(Index ci) {
  Contact& c = contacts[ci];
  if (c.in_class) {
    classes[c.cls].waiting.erase(c.Key(ci));
    RefreshHead(c.cls);
    c.in_class = false;
  }
  if (c.reserved) {
    Agent& a = agents[agent_by_id.at(c.preferred_agent)];
    std::erase(a.reserved, ci);
    c.reserved = false;
  }
}

void Engine::Impl::EndReservation(Index ci) {
  Contact& c = contacts[ci];
  Unplace(ci);
  c.preferred_until = std::min(c.preferred_until, now);
  Disarm(c.preferred_timer);
  PlaceRoutable(ci);
  Route(ci);
}

bool Engine::Impl::IsDeclined(const Contact& c, Index agent) const {
  for (const detail::Decline& d : c.declined) {
    if (d.agent == agent && d.until > Ns(now)) return true;
  }
  return false;
}

void Engine::Impl::AddDecline(Index ci, Index ai) {
  if (policy.reoffer_delay <= Duration::zero()) return;
  Contact& c = contacts[ci];
  int64_t until = Ns(now + policy.reoffer_delay);
  detail::EraseIf(c.declined,
                  [&](const detail::Decline& d) { return d.agent == ai; });
  c.declined.push_back({ai, until});
  Agent& a = agents[ai];
  detail::EraseIf(a.declined, [&](const detail::DeclinedContact& d) {
    return d.until <= Ns(now) || (d.contact == ci && d.seq == c.seq);
  });
  a.declined.push_back({ci, c.seq, until});
  // A shorter reoffer_delay (the policy changed) can make this decline end
  // before the one the timer waits for.
  if (c.reoffer_timer.armed() && c.reoffer_timer.when > until) {
    Disarm(c.reoffer_timer);
  }
  if (!c.reoffer_timer.armed()) {
    c.reoffer_timer = Arm(FromNs(until), {TimerKind::kReofferAllowed, ci});
  }
}

void Engine::Impl::Route(Index ci) {
  Contact& c = contacts[ci];
  assert(c.state == ContactState::kQueued);
  if (c.reserved) {
    Index ai = agent_by_id.at(c.preferred_agent);
    if (Available(agents[ai], c.channel)) Offer(ci, ai);
    return;
  }
  if (!c.in_class) return;
  Index ai = FindAgent(ci);
  if (ai != kNone) Offer(ci, ai);
}

void Engine::Impl::Offer(Index ci, Index ai) {
  Contact& c = contacts[ci];
  Agent& a = agents[ai];
  assert(Available(a, c.channel));
  Unplace(ci);
  Queue& q = *queues[c.queue];
  c.state = ContactState::kOffered;
  c.agent = ai;
  c.work_id = next_seq++;
  a.offer = ci;
  a.work.push_back({c.work_id, ci, c.id, c.queue, c.channel,
                    WorkPhase::kOffered, Time{}, TimerKey{}});
  ChangeLoad(a, c.channel, +1);
  c.offer_timer =
      Arm(now + q.config.offer_timeout, {TimerKind::kOfferTimeout, ci});
  q.offered_now++;
  q.totals.offers++;
  Event& e = Emit(EventKind::kContactOffered, &c);
  e.agent_id = a.profile.id;
  e.deadline = now + q.config.offer_timeout;
  Reindex(ai);
}

// Takes the offer back from the agent; the contact is left QUEUED but not
// yet placed (the caller requeues or ends it).
void Engine::Impl::ReleaseOffer(Index ci, EventKind why) {
  Contact& c = contacts[ci];
  assert(c.state == ContactState::kOffered);
  Index ai = c.agent;
  Agent& a = agents[ai];
  Disarm(c.offer_timer);
  std::erase_if(a.work, [&](const Work& w) { return w.id == c.work_id; });
  ChangeLoad(a, c.channel, -1);
  a.offer = kNone;
  c.agent = kNone;
  c.work_id = 0;
  c.state = ContactState::kQueued;
  queues[c.queue]->offered_now--;
  if (why == EventKind::kOfferRescinded) {
    queues[c.queue]->totals.offers_rescinded++;
    Emit(EventKind::kOfferRescinded, &c).agent_id = a.profile.id;
  }
  // A preferred agent who turned the contact down ends the wait for them.
  if (why != EventKind::kOfferRescinded && c.preferred_agent == a.profile.id) {
    c.preferred_until = std::min(c.preferred_until, now);
    Disarm(c.preferred_timer);
  }
}

Index Engine::Impl::WithdrawUnqualifiedOffer(Index ci) {
  Contact& c = contacts[ci];
  if (c.state != ContactState::kOffered ||
      Satisfies(agents[c.agent], classes[c.cls].key.reqs)) {
    return kNone;
  }
  Index ai = c.agent;
  ReleaseOffer(ci, EventKind::kOfferRescinded);
  return ai;
}

void Engine::Impl::Requeue(Index ci) {
  Contact& c = contacts[ci];
  if (c.max_wait_due) {
    c.max_wait_due = false;
    ExpireOrOverflow(ci);
    return;
  }
  PlaceRoutable(ci);
  Emit(EventKind::kContactQueued, &c);
  Route(ci);
}

void Engine::Impl::ExpireOrOverflow(Index ci) {
  Contact& c = contacts[ci];
  const Queue& from = *queues[c.queue];
  Queue* to = FindQueue(from.config.max_wait_queue);
  if (to != nullptr && to->config.TakesChannel(c.channel) &&
      (to->config.max_waiting == 0 ||
       static_cast<int>(to->positions.size()) < to->config.max_waiting)) {
    Index from_idx = c.queue;
    Index to_idx = queue_by_name.at(to->config.name);
    LeaveQueue(ci);
    queues[from_idx]->totals.overflowed++;
    queues[from_idx]->live_contacts--;
    to->live_contacts++;
    EnterQueue(ci, to_idx, c.arrival, now);
    Event& e = Emit(EventKind::kContactOverflowed, &contacts[ci]);
    e.from_queue = from.config.name;
    Route(ci);
    return;
  }
  EndContact(ci, EndReason::kExpired);
}

void Engine::Impl::EndContact(Index ci, EndReason reason) {
  Contact& c = contacts[ci];
  Queue& q = *queues[c.queue];
  // A completed contact waited until it was answered, not until it ended.
  Duration wait = reason == EndReason::kCompleted ? c.waited : now - c.arrival;
  bool within = wait <= q.config.service_level_target;
  if (c.state != ContactState::kScheduled) {
    auto& w = q.window.At(now);
    if (reason == EndReason::kAbandoned) {
      w.abandoned++;
      if (!within) w.abandoned_after_target++;
    } else if (reason == EndReason::kExpired) {
      w.expired++;
    }
  } else {
    q.scheduled--;
  }
  switch (reason) {
    case EndReason::kAbandoned:
      q.totals.abandoned++;
      break;
    case EndReason::kCancelled:
      q.totals.cancelled++;
      break;
    case EndReason::kExpired:
      q.totals.expired++;
      break;
    case EndReason::kCompleted:
      q.totals.completed++;
      break;
    default:
      break;
  }
  LeaveQueue(ci);
  Disarm(c.callback_timer);
  Disarm(c.reoffer_timer);
  Disarm(c.offer_timer);
  ContactState previous = c.state;
  c.state = ContactState::kEnded;
  Event& e = Emit(EventKind::kContactEnded, &c);
  e.end_reason = reason;
  e.wait = previous == ContactState::kScheduled ? Duration::zero() : wait;
  e.within_target = within;
  q.live_contacts--;
  ended.insert_or_assign(
      c.id,
      detail::EndedContact{
          c.requested_queue, c.gateway, q.config.name,
          c.agent == kNone ? std::string() : agents[c.agent].profile.id,
          c.channel, c.priority, c.step, reason, c.created_at, c.arrival, now});
  ended_order.emplace_back(now, c.id);
  ExpireEndedRecords();
  contact_by_id.erase(c.id);
  for (const detail::Decline& d : c.declined) {
    detail::EraseIf(agents[d.agent].declined,
                    [&](const detail::DeclinedContact& x) {
                      return x.contact == ci && x.seq == c.seq;
                    });
  }
  HoldSkills(c.extra, -1);
  c = Contact{};
  free_contacts.push_back(ci);
  live_contact_count--;
}

ContactView Engine::Impl::View(Index ci, bool full) const {
  const Contact& c = contacts[ci];
  const Queue& q = *queues[c.queue];
  ContactView v;
  v.id = c.id;
  v.queue = q.config.name;
  v.channel = c.channel;
  v.priority = c.priority;
  v.state = c.state;
  if (c.agent != kNone) v.agent_id = agents[c.agent].profile.id;
  v.created_at = c.created_at;
  v.arrived_at = c.arrival;
  v.entered_at = c.entered;
  v.requested_queue = c.requested_queue;
  v.gateway = c.gateway;
  if (c.offer_timer.armed()) v.offer_deadline = FromNs(c.offer_timer.when);
  v.escalation_step = c.step;
  if (c.state == ContactState::kAssigned || c.state == ContactState::kWrapUp) {
    v.waited = c.waited;
  }
  v.requirements = c.extra_named;
  if (!full) return v;
  v.customer_id = c.customer_id;
  v.attributes = c.attributes;
  if (c.state == ContactState::kQueued || c.state == ContactState::kOffered) {
    v.position = static_cast<int>(q.positions.order_of_key(c.Key(ci))) + 1;
    if (c.state == ContactState::kOffered) {
      v.estimated_wait = Duration::zero();
    } else {
      v.estimated_wait = EstimatedWait(q, classes[c.cls], v.position);
    }
  }
  return v;
}

ContactView Engine::Impl::LatestView(std::string_view id) const {
  if (auto it = contact_by_id.find(id); it != contact_by_id.end()) {
    return View(it->second);
  }
  if (auto it = ended.find(id); it != ended.end()) {
    return EndedView(id, it->second);
  }
  ContactView v;  // ended and not remembered (no idempotency retention)
  v.id = std::string(id);
  v.state = ContactState::kEnded;
  return v;
}

ContactView Engine::Impl::EndedView(std::string_view id,
                                    const detail::EndedContact& e) const {
  ContactView v;
  v.id = std::string(id);
  v.queue = e.queue;
  v.channel = e.channel;
  v.priority = e.priority;
  v.state = ContactState::kEnded;
  v.end_reason = e.reason;
  v.agent_id = e.agent_id;
  v.created_at = e.created_at;
  v.arrived_at = e.arrived_at;
  v.ended_at = e.ended_at;
  v.requested_queue = e.requested_queue;
  v.gateway = e.gateway;
  v.escalation_step = e.step;
  return v;
}

std::optional<Duration> Engine::Impl::EstimatedWait(const Queue& q,
                                                    const ContactClass& k,
                                                    int position) const {
  if (k.ready_capacity <= 0) return std::nullopt;
  detail::WindowCounts w = q.window.Sum(now);
  Duration aht = w.handled > 0 ? Duration(w.handle_time_ns / w.handled)
                               : q.config.default_handle_time;
  return aht * position / k.ready_capacity;
}

void Engine::Impl::RememberAgent(const std::string& customer,
                                 const std::string& agent) {
  if (customer.empty() || limits.max_remembered_customers == 0) return;
  uint64_t stamp = next_seq++;
  last_agent.insert_or_assign(customer, RememberedAgent{agent, stamp});
  last_agent_order.emplace_back(customer, stamp);
  while (last_agent.size() > limits.max_remembered_customers ||
         last_agent_order.size() > 2 * limits.max_remembered_customers) {
    auto [id, s] = last_agent_order.front();
    last_agent_order.pop_front();
    auto it = last_agent.find(id);
    if (it != last_agent.end() && it->second.stamp == s) last_agent.erase(it);
  }
}

Queue* Engine::Impl::FindQueue(std::string_view name) {
  if (name.empty()) return nullptr;
  auto it = queue_by_name.find(name);
  return it == queue_by_name.end() ? nullptr : queues[it->second].get();
}

// ---------------------------------------------------------------------------
// Agents.

void Engine::Impl::Account(Agent& a) {
  Duration elapsed = now - a.accounted_at;
  a.accounted_at = now;
  if (a.state == AgentState::kOffline || elapsed <= Duration::zero()) return;
  if (a.total_load() > 0) {
    a.busy += elapsed;
  } else if (a.state == AgentState::kReady) {
    a.idle += elapsed;
  }
}

void Engine::Impl::ChangeLoad(Agent& a, Channel ch, int delta) {
  Account(a);
  a.load[static_cast<int>(ch)] += delta;
  assert(a.load[static_cast<int>(ch)] >= 0);
}

void Engine::Impl::SetAgentState(Index ai, AgentState state,
                                 std::string_view reason) {
  Agent& a = agents[ai];
  Account(a);
  bool was_ready = a.state == AgentState::kReady;
  bool is_ready = state == AgentState::kReady;
  if (was_ready && !is_ready) AddReadyContribution(ai, -1);
  if (!was_ready && is_ready) AddReadyContribution(ai, +1);
  a.state = state;
  a.reason = std::string(reason);
  a.state_since = now;
  Event& e = EmitAgent(EventKind::kAgentStateChanged, a);
  e.agent_state = state;
  e.reason = a.reason;
}

// Decision 2: the agent can take work; offer it the best waiting contact it
// is eligible for, then bring the agent's index entries up to date.
// Candidates are the contacts waiting for this agent in person and the head
// of each eligible class with waiting contacts. It decides from the agent's
// own state and the class heads, never from the agent index, so it runs
// before the agent is reindexed: an agent that is offered a contact at
// once is never put into the index only to be taken out again.
void Engine::Impl::Serve(Index ai) {
  Agent& a = agents[ai];
  uint32_t mask = AvailableMask(a);
  if (mask == 0) {
    Reindex(ai);
    return;
  }
  detail::EraseIf(a.declined, [&](const detail::DeclinedContact& d) {
    return d.until <= Ns(now);
  });
  auto agent_declined = [&](const ContactKey& key) {
    for (const auto& d : a.declined) {
      if (d.contact == key.contact && d.seq == key.seq) return true;
    }
    return false;
  };

  struct Candidate {
    ContactKey key;
    bool reserved;
    Duration target;
  };
  std::optional<Candidate> best;
  bool fifo = policy.contact_selection == ContactSelection::kFifo;
  int64_t t = Ns(now);
  auto better = [&](const Candidate& x, const Candidate& y) {
    if (x.key.neg_priority != y.key.neg_priority) {
      return x.key.neg_priority < y.key.neg_priority;
    }
    if (x.reserved != y.reserved) return x.reserved;
    if (!fifo && x.target != y.target) {
      // Urgency wait/target, compared without division.
      __int128 ux = static_cast<__int128>(t - x.key.arrival) * y.target.count();
      __int128 uy = static_cast<__int128>(t - y.key.arrival) * x.target.count();
      if (ux != uy) return ux > uy;
    }
    if (x.key.arrival != y.key.arrival) return x.key.arrival < y.key.arrival;
    return x.key.seq < y.key.seq;
  };
  auto consider = [&](const Candidate& cand) {
    if (!best || better(cand, *best)) best = cand;
  };

  for (Index ci : a.reserved) {
    const Contact& c = contacts[ci];
    if (!(mask & Bit(c.channel))) continue;
    ContactKey key = c.Key(ci);
    if (agent_declined(key)) continue;
    consider({key, true, queues[c.queue]->config.service_level_target});
  }
  // One compact head per class keeps this loop to a cache line per class.
  for (Index k : a.eligible_classes) {
    const detail::ClassHead& head = class_heads[k];
    if (!head.waiting || !(mask & Bit(head.channel))) continue;
    if (a.declined.empty() || !agent_declined(head.key)) {
      consider({head.key, false, head.target});
      continue;
    }
    // The agent declined the head: its best in this class is further in.
    for (const ContactKey& key : classes[k].waiting) {
      if (agent_declined(key)) continue;
      consider({key, false, head.target});
      break;
    }
  }
  if (best) {
    Offer(best->key.contact, ai);  // reindexes the agent
  } else {
    Reindex(ai);
  }
}

void Engine::Impl::RefreshHead(Index k) {
  if (class_heads.size() < classes.size()) class_heads.resize(classes.size());
  const ContactClass& cls = classes[k];
  detail::ClassHead& head = class_heads[k];
  head.waiting = cls.live && !cls.waiting.empty();
  if (!head.waiting) return;
  head.key = *cls.waiting.begin();
  head.channel = cls.key.channel;
  head.target = queues[cls.key.queue]->config.service_level_target;
}

Work* Engine::Impl::FindWork(Agent& a, uint64_t work_id) {
  for (Work& w : a.work) {
    if (w.id == work_id) return &w;
  }
  return nullptr;
}

void Engine::Impl::FinishWrapUp(Index ai, uint64_t work_id) {
  Agent& a = agents[ai];
  Work* w = FindWork(a, work_id);
  assert(w != nullptr && w->phase == WorkPhase::kWrapUp);
  Disarm(w->wrap_up_timer);
  Work done = std::move(*w);
  std::erase_if(a.work, [&](const Work& x) { return x.id == work_id; });
  ChangeLoad(a, done.channel, -1);
  a.handled++;
  a.idle_since = now;
  if (queues[done.queue]) {
    auto& win = queues[done.queue]->window.At(now);
    win.handled++;
    win.handle_time_ns += (now - done.assigned_at).count();
  }
  Event& e = EmitAgent(EventKind::kAgentWrapUpEnded, a);
  e.contact_id = done.contact_id;
  e.channel = done.channel;
  if (done.contact != kNone) {
    EndContact(done.contact, EndReason::kCompleted);
  }
  Serve(ai);
}

absl::StatusOr<Index> Engine::Impl::FindLoggedInAgent(std::string_view id) {
  auto it = agent_by_id.find(id);
  if (it == agent_by_id.end()) {
    return absl::NotFoundError(detail::Cat("agent '", id, "' not found"));
  }
  if (agents[it->second].state == AgentState::kOffline) {
    return absl::FailedPreconditionError(
        detail::Cat("agent '", id, "' is not logged in"));
  }
  return it->second;
}

absl::StatusOr<Index> Engine::Impl::FindAgentContact(Index ai,
                                                     std::string_view id,
                                                     ContactState state,
                                                     std::string_view action) {
  auto it = contact_by_id.find(id);
  const std::string& agent_id = agents[ai].profile.id;
  if (it == contact_by_id.end()) {
    return absl::NotFoundError(
        detail::Cat("contact '", id, "' not found (or already ended)"));
  }
  const Contact& c = contacts[it->second];
  if (c.agent != ai || c.state != state) {
    return absl::FailedPreconditionError(
        detail::Cat("cannot ", action, " contact '", id, "': it is not ",
                    ContactStateName(state), " to agent '", agent_id, "'"));
  }
  return it->second;
}

// ---------------------------------------------------------------------------
// Events and statistics.

Event& Engine::Impl::Emit(EventKind kind, const Contact* c) {
  Event& e = events.emplace_back();
  e.kind = kind;
  e.at = now;
  if (c != nullptr) {
    e.contact_id = c->id;
    e.queue = queues[c->queue]->config.name;
    e.channel = c->channel;
    e.priority = c->priority;
    e.step = c->step;
  }
  return e;
}

Event& Engine::Impl::EmitAgent(EventKind kind, const Agent& a) {
  Event& e = events.emplace_back();
  e.kind = kind;
  e.at = now;
  e.agent_id = a.profile.id;
  e.agent_state = a.state;
  e.reason = a.reason;
  return e;
}

QueueStats Engine::Impl::StatsFor(Index qi) {
  Queue& q = *queues[qi];
  QueueStats s = q.totals;
  s.name = q.config.name;
  s.waiting = static_cast<int>(q.positions.size());
  s.offered = q.offered_now;
  s.scheduled = q.scheduled;
  if (!q.by_arrival.empty()) {
    s.oldest_wait = now - FromNs(q.by_arrival.begin()->first);
  }
  detail::WindowCounts w = q.window.Sum(now);
  s.window_answered = w.answered;
  s.window_answered_within_target = w.answered_within_target;
  s.window_abandoned = w.abandoned;
  int64_t denominator = w.answered + w.abandoned_after_target + w.expired;
  if (denominator > 0) {
    s.service_level =
        static_cast<double>(w.answered_within_target) / denominator;
  }
  if (w.answered > 0) {
    s.average_speed_of_answer = Duration(w.answer_delay_ns / w.answered);
  }
  if (w.handled > 0) {
    s.average_handle_time = Duration(w.handle_time_ns / w.handled);
  }
  s.service_level_target = q.config.service_level_target;
  s.service_level_goal = q.config.service_level_goal;
  Channel first = Channel::kVoice;
  for (int c = 0; c < kChannelCount; ++c) {
    if (q.config.TakesChannel(static_cast<Channel>(c))) {
      first = static_cast<Channel>(c);
      break;
    }
  }
  Index& cached = q.class_cache[0][static_cast<int>(first)];
  if (cached == kNone) {
    cached = GetOrCreateClass(qi, first, q.step_reqs[0], q.step_primary[0]);
  }
  s.agents_ready = classes[cached].ready_agents;
  s.estimated_wait = EstimatedWait(q, classes[cached], s.waiting + 1);
  return s;
}

AgentStats Engine::Impl::AgentStatsFor(Index ai) {
  Agent& a = agents[ai];
  Account(a);
  AgentStats s;
  s.id = a.profile.id;
  s.state = a.state;
  s.reason = a.reason;
  s.time_in_state = a.state == AgentState::kOffline && a.state_since == Time{}
                        ? Duration::zero()
                        : now - a.state_since;
  s.load = a.load;
  if (a.offer != kNone) s.offered_contact = contacts[a.offer].id;
  for (const Work& w : a.work) {
    if (w.phase != WorkPhase::kOffered) s.contacts.push_back(w.contact_id);
  }
  s.handled = a.handled;
  s.missed_offers = a.missed_offers;
  if (a.busy + a.idle > Duration::zero()) {
    s.occupancy = ToSeconds(a.busy) / ToSeconds(a.busy + a.idle);
  }
  return s;
}

// ---------------------------------------------------------------------------
// Public API.

Engine::Engine(EngineLimits limits, RoutingPolicy policy)
    : impl_(std::make_unique<Impl>(limits, policy)) {}

Engine::~Engine() = default;

absl::Status Engine::UpsertQueue(const QueueConfig& config, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  if (auto st = ValidateQueueConfig(config, s.limits); !st.ok()) return st;
  std::vector<std::string_view> names;
  for (const auto& r : config.requirements) names.push_back(r.skill);
  for (const auto& step : config.escalation) {
    for (const auto& r : step.requirements) names.push_back(r.skill);
  }
  if (auto st = s.CanIntern(names); !st.ok()) return st;
  auto intern_step = [&](const std::vector<SkillRequirement>& reqs) {
    ReqList out;
    for (const auto& r : reqs) {
      out.push_back({s.InternName(r.skill), r.min_level});
    }
    Req primary = out.empty() ? Req{kAnySkill, kMaxSkillLevel} : out.front();
    std::sort(out.begin(), out.end());
    return std::make_pair(out, primary);
  };

  Index qi;
  bool existing = s.queue_by_name.contains(config.name);
  if (existing) {
    qi = s.queue_by_name.at(config.name);
  } else {
    qi = static_cast<Index>(s.queues.size());
    s.queues.push_back(std::make_unique<Queue>(s.limits.stats_window,
                                               s.limits.stats_window_buckets));
    s.queue_by_name.emplace(config.name, qi);
  }
  Queue& q = *s.queues[qi];
  if (existing) {
    // Dropping a channel would strand the contacts of it inside.
    for (const Contact& c : s.contacts) {
      if (c.live && c.queue == qi && !config.TakesChannel(c.channel)) {
        return absl::FailedPreconditionError(detail::Cat(
            "queue '", config.name, "' still holds ", ChannelName(c.channel),
            " contacts; it must keep taking that channel"));
      }
    }
  }
  q.live = true;
  q.config = config;
  for (const ReqList& reqs : q.step_reqs) s.HoldSkills(reqs, -1);
  q.step_reqs.clear();
  q.step_primary.clear();
  auto [base, base_primary] = intern_step(config.requirements);
  q.step_reqs.push_back(base);
  q.step_primary.push_back(base_primary);
  for (const auto& step : config.escalation) {
    auto [reqs, primary] = intern_step(step.requirements);
    q.step_reqs.push_back(reqs);
    q.step_primary.push_back(primary);
  }
  for (const ReqList& reqs : q.step_reqs) s.HoldSkills(reqs, +1);
  q.class_cache.assign(q.step_reqs.size(), {});
  for (auto& row : q.class_cache) row.fill(kNone);
  if (config.agent_selection == AgentSelection::kLeastOccupied) {
    s.EnableOccupancyIndex();
  }
  if (config.agent_selection == AgentSelection::kPreserveCoverage) {
    s.EnableAvailableCounts();
  }
  if (!existing) return absl::OkStatus();
  // The class heads carry the queue's service-level target.
  for (Index k = 0; k < s.classes.size(); ++k) {
    if (s.classes[k].live && s.classes[k].key.queue == qi) s.RefreshHead(k);
  }

  // Move the queue's contacts to the new requirements and timers, in their
  // order, then route them.
  std::vector<Index> moved;
  for (const ContactKey& key : q.positions) moved.push_back(key.contact);
  for (Index ci : moved) {
    Contact& c = s.contacts[ci];
    c.step = std::min<int>(c.step, static_cast<int>(config.escalation.size()));
    s.Disarm(c.escalation_timer);
    if (c.step < static_cast<int>(config.escalation.size())) {
      c.escalation_timer = s.Arm(c.entered + config.escalation[c.step].after,
                                 {TimerKind::kEscalation, ci});
    }
    // The re-armed timer decides about the maximum wait from now on.
    s.Disarm(c.max_wait_timer);
    c.max_wait_due = false;
    if (config.max_wait > Duration::zero()) {
      c.max_wait_timer =
          s.Arm(c.entered + config.max_wait, {TimerKind::kMaxWait, ci});
    }
    bool placed = c.in_class || c.reserved;
    if (placed) s.Unplace(ci);
    s.SetClass(c, s.ClassFor(c));
    if (placed) s.PlaceRoutable(ci);
  }
  // An open offer to an agent the new requirements exclude is withdrawn.
  std::vector<Index> freed;
  for (Index ci : moved) {
    // Placed, not routed yet: the queue's contacts are routed in order below.
    if (Index ai = s.WithdrawUnqualifiedOffer(ci); ai != kNone) {
      freed.push_back(ai);
      s.PlaceRoutable(ci);
      s.Emit(EventKind::kContactQueued, &s.contacts[ci]);
    }
  }
  for (Index ci : moved) {
    if (s.contacts[ci].state == ContactState::kQueued) s.Route(ci);
  }
  for (Index ai : freed) {
    s.Serve(ai);
  }
  s.Advance(s.now);
  return absl::OkStatus();
}

absl::Status Engine::DeleteQueue(std::string_view name, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto it = s.queue_by_name.find(name);
  if (it == s.queue_by_name.end()) {
    return absl::NotFoundError(detail::Cat("queue '", name, "' not found"));
  }
  Queue& q = *s.queues[it->second];
  if (q.live_contacts > 0) {
    return absl::FailedPreconditionError(
        detail::Cat("queue '", name, "' still has ", q.live_contacts,
                    " contacts; cancel or transfer them first"));
  }
  q.live = false;
  for (const ReqList& reqs : q.step_reqs) s.HoldSkills(reqs, -1);
  q.step_reqs.clear();
  q.step_primary.clear();
  q.class_cache.clear();
  s.queue_by_name.erase(it);
  s.SweepClasses(true);
  return absl::OkStatus();
}

absl::Status Engine::UpsertAgentProfile(const AgentProfile& profile, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  if (auto st = ValidateAgentProfile(profile, s.limits); !st.ok()) return st;
  std::vector<std::string_view> names;
  for (const Skill& k : profile.skills) names.push_back(k.name);
  if (auto st = s.CanIntern(names); !st.ok()) return st;
  Index ai;
  auto it = s.agent_by_id.find(profile.id);
  if (it != s.agent_by_id.end()) {
    ai = it->second;
    const Agent& a = s.agents[ai];
    for (int c = 0; c < kChannelCount; ++c) {
      if (profile.capacity[c] < a.load[c]) {
        return absl::FailedPreconditionError(
            detail::Cat("agent '", profile.id, "' has ", a.load[c], " ",
                        ChannelName(static_cast<Channel>(c)),
                        " contacts; capacity cannot drop to ",
                        profile.capacity[c], " while they are in progress"));
      }
    }
    int voice = a.load[static_cast<int>(Channel::kVoice)] +
                a.load[static_cast<int>(Channel::kCallback)];
    if (profile.voice_blocks_other_channels && voice > 0 &&
        voice < a.total_load()) {
      return absl::FailedPreconditionError(detail::Cat(
          "agent '", profile.id,
          "' has a voice contact beside other contacts; voice cannot block "
          "other channels while they are in progress"));
    }
  } else {
    ai = static_cast<Index>(s.agents.size());
    s.agents.emplace_back();
    s.agent_by_id.emplace(profile.id, ai);
    s.agents[ai].live = true;
    s.agents[ai].accounted_at = s.now;
  }
  Agent& a = s.agents[ai];
  bool ready = a.state == AgentState::kReady;
  if (ready) s.AddReadyContribution(ai, -1);
  a.profile = profile;
  s.RemoveFromSkillRoster(ai);
  ReqList skills;
  for (const Skill& k : profile.skills) {
    skills.push_back({s.InternName(k.name), k.level});
  }
  std::sort(skills.begin(), skills.end());
  s.HoldSkills(skills, +1);
  s.HoldSkills(a.skills, -1);
  a.skills = std::move(skills);
  s.AddToSkillRoster(ai);
  s.RebuildEligibleClasses(ai);
  if (ready) s.AddReadyContribution(ai, +1);
  // An open offer the agent no longer qualifies for is withdrawn.
  if (Index ci = a.offer;
      ci != kNone && s.WithdrawUnqualifiedOffer(ci) != kNone) {
    s.Requeue(ci);
  }
  // Contacts waiting for this agent in person that it can no longer take
  // go to the general pool.
  std::vector<Index> reserved = a.reserved;
  for (Index ci : reserved) {
    if (!s.EligibleFor(s.agents[ai], s.classes[s.contacts[ci].cls])) {
      s.EndReservation(ci);
    }
  }
  s.Serve(ai);
  s.Advance(s.now);
  return absl::OkStatus();
}

absl::Status Engine::DeleteAgentProfile(std::string_view id, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto it = s.agent_by_id.find(id);
  if (it == s.agent_by_id.end()) {
    return absl::NotFoundError(detail::Cat("agent '", id, "' not found"));
  }
  Agent& a = s.agents[it->second];
  if (a.state != AgentState::kOffline) {
    return absl::FailedPreconditionError(
        detail::Cat("agent '", id, "' is logged in; log it out first"));
  }
  // Slots of deleted agents are not reused, so stale references (declines)
  // can never point at another agent.
  s.RemoveFromSkillRoster(it->second);
  s.HoldSkills(a.skills, -1);
  a.skills.clear();
  a.indexed_skills.clear();  // offline: nothing is indexed
  a.live = false;
  a.eligible_classes.clear();
  a.declined.clear();
  s.agent_by_id.erase(it);
  return absl::OkStatus();
}

absl::Status Engine::SetRoutingPolicy(const RoutingPolicy& policy, Time now) {
  impl_->Advance(now);
  if (auto st = ValidateRoutingPolicy(policy); !st.ok()) return st;
  impl_->policy = policy;
  return absl::OkStatus();
}

const EngineLimits& Engine::limits() const { return impl_->limits; }

const RoutingPolicy& Engine::routing_policy() const { return impl_->policy; }

std::vector<QueueConfig> Engine::ListQueues() const {
  std::vector<QueueConfig> out;
  for (const auto& q : impl_->queues) {
    if (q && q->live) out.push_back(q->config);
  }
  return out;
}

std::vector<AgentProfile> Engine::ListAgentProfiles() const {
  std::vector<AgentProfile> out;
  for (const Agent& a : impl_->agents) {
    if (a.live) out.push_back(a.profile);
  }
  return out;
}

absl::StatusOr<ContactView> Engine::CreateContact(const ContactRequest& r,
                                                  Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  if (auto st = ValidateContactRequest(r, s.limits); !st.ok()) return st;

  auto same_request = [&](std::string_view queue,
                          Channel channel) -> absl::Status {
    if (queue != r.queue || channel != r.channel) {
      return absl::AlreadyExistsError(
          detail::Cat("contact '", r.id, "' already exists for queue '", queue,
                      "' on channel ", ChannelName(channel),
                      "; a retry must repeat the original request"));
    }
    return absl::OkStatus();
  };
  if (auto it = s.contact_by_id.find(r.id); it != s.contact_by_id.end()) {
    const Contact& c = s.contacts[it->second];
    if (auto st = same_request(c.requested_queue, c.channel); !st.ok()) {
      return st;
    }
    return s.View(it->second);
  }
  if (auto it = s.ended.find(r.id); it != s.ended.end()) {
    if (auto st = same_request(it->second.requested_queue, it->second.channel);
        !st.ok()) {
      return st;
    }
    return s.EndedView(r.id, it->second);
  }

  Queue* q = s.FindQueue(r.queue);
  if (q == nullptr) {
    return absl::NotFoundError(detail::Cat("queue '", r.queue, "' not found"));
  }
  if (!q->config.TakesChannel(r.channel)) {
    return absl::InvalidArgumentError(
        detail::Cat("contact.channel: queue '", r.queue, "' does not take ",
                    ChannelName(r.channel), " contacts"));
  }
  if (s.live_contact_count >= s.limits.max_live_contacts) {
    return absl::ResourceExhaustedError(
        detail::Cat("the router holds its limit of ",
                    s.limits.max_live_contacts, " live contacts"));
  }
  bool scheduled = r.not_before.has_value() && *r.not_before > s.now;
  auto full = [](const Queue& x) {
    return x.config.max_waiting > 0 &&
           static_cast<int>(x.positions.size()) >= x.config.max_waiting;
  };
  Queue* target = q;
  if (!scheduled && full(*q)) {
    Queue* overflow = s.FindQueue(q->config.overflow_queue);
    if (overflow == nullptr || !overflow->config.TakesChannel(r.channel) ||
        full(*overflow)) {
      q->totals.refused++;
      return absl::ResourceExhaustedError(detail::Cat(
          "queue '", r.queue, "' is full (", q->config.max_waiting, " waiting)",
          overflow == nullptr ? ""
                              : detail::Cat(" and so is its overflow queue '",
                                            q->config.overflow_queue, "'")));
    }
    target = overflow;
  }
  auto extra = s.Intern(r.requirements);
  if (!extra.ok()) return extra.status();
  if (target != q) q->totals.overflowed++;

  Index qi = s.queue_by_name.at(target->config.name);
  Index ci = s.NewContact(r, qi, *std::move(extra), s.now);
  Contact& c = s.contacts[ci];
  Time start = scheduled ? *r.not_before : s.now;
  if (!r.preferred_agent.empty()) {
    c.preferred_agent = r.preferred_agent;
    c.preferred_until = start + r.preferred_wait;
  } else if (target->config.last_agent_window > Duration::zero() &&
             !r.customer_id.empty()) {
    if (auto it = s.last_agent.find(r.customer_id); it != s.last_agent.end()) {
      c.preferred_agent = it->second.agent_id;
      c.preferred_until = start + target->config.last_agent_window;
    }
  }
  target->totals.created++;
  if (scheduled) {
    c.state = ContactState::kScheduled;
    target->scheduled++;
    c.callback_timer = s.Arm(*r.not_before, {TimerKind::kCallbackDue, ci});
    Event& e = s.Emit(EventKind::kContactScheduled, &c);
    e.deadline = *r.not_before;
    e.created = true;
  } else {
    Time arrival = std::min(r.arrived_at.value_or(s.now), s.now);
    s.EnterQueue(ci, qi, arrival, arrival);
    Event& e = s.Emit(
        target == q ? EventKind::kContactQueued : EventKind::kContactOverflowed,
        &s.contacts[ci]);
    if (target != q) e.from_queue = q->config.name;
    e.created = true;
    s.Route(ci);
    // A contact that waited elsewhere first: escalation steps and a maximum
    // wait already due take effect now.
    if (arrival < s.now) s.Advance(s.now);
  }
  ContactView v = s.LatestView(r.id);
  v.created = true;
  return v;
}

absl::Status Engine::CancelContact(std::string_view id, EndReason reason,
                                   Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  if (reason != EndReason::kAbandoned && reason != EndReason::kCancelled) {
    return absl::InvalidArgumentError(
        "reason: a gateway ends a contact as abandoned or cancelled");
  }
  auto it = s.contact_by_id.find(id);
  if (it == s.contact_by_id.end()) {
    if (auto e = s.ended.find(id); e != s.ended.end()) {
      // A retried cancel (its first answer lost) is done, not an error.
      if (e->second.reason == reason) return absl::OkStatus();
      return absl::FailedPreconditionError(
          detail::Cat("contact '", id, "' has already ended (",
                      EndReasonName(e->second.reason), ")"));
    }
    return absl::NotFoundError(detail::Cat("contact '", id, "' not found"));
  }
  Index ci = it->second;
  Contact& c = s.contacts[ci];
  if (c.state == ContactState::kAssigned || c.state == ContactState::kWrapUp) {
    return absl::FailedPreconditionError(
        detail::Cat("contact '", id, "' is with agent '",
                    s.agents[c.agent].profile.id, "'; the agent completes it"));
  }
  Index ai = kNone;
  if (c.state == ContactState::kOffered) {
    ai = c.agent;
    s.ReleaseOffer(ci, EventKind::kOfferRescinded);
  }
  s.EndContact(ci, reason);
  if (ai != kNone) {
    s.Serve(ai);
  }
  s.Advance(s.now);
  return absl::OkStatus();
}

absl::Status Engine::UpdateContact(
    std::string_view id, std::optional<int> priority,
    std::optional<std::vector<SkillRequirement>> requirements, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto it = s.contact_by_id.find(id);
  if (it == s.contact_by_id.end()) {
    return absl::NotFoundError(detail::Cat("contact '", id, "' not found"));
  }
  if (priority && (*priority < 0 || *priority > s.limits.max_priority)) {
    return absl::InvalidArgumentError(
        detail::Cat("contact.priority: ", *priority, " is not in 0..",
                    s.limits.max_priority));
  }
  if (requirements) {
    if (auto st = ValidateRequirements(*requirements, "contact.requirements",
                                       s.limits);
        !st.ok()) {
      return st;
    }
  }
  Index ci = it->second;
  Contact& c = s.contacts[ci];
  if (c.state != ContactState::kQueued && c.state != ContactState::kScheduled) {
    return absl::FailedPreconditionError(
        detail::Cat("contact '", id, "' is ", ContactStateName(c.state),
                    "; only waiting contacts can be changed"));
  }
  ReqList extra = c.extra;
  if (requirements) {
    auto interned = s.Intern(*requirements);
    if (!interned.ok()) return interned.status();
    extra = *std::move(interned);
  }
  bool waiting = c.state == ContactState::kQueued;
  Queue& q = *s.queues[c.queue];
  if (waiting) {
    s.Unplace(ci);
    q.positions.erase(c.Key(ci));
  }
  if (priority) c.priority = *priority;
  if (requirements) {
    s.HoldSkills(extra, +1);
    s.HoldSkills(c.extra, -1);
    c.extra = std::move(extra);
    c.extra_named = *requirements;
  }
  if (waiting) {
    q.positions.insert(c.Key(ci));
    s.SetClass(c, s.ClassFor(c));
    s.PlaceRoutable(ci);
  }
  s.Emit(EventKind::kContactUpdated, &c);
  if (waiting) s.Route(ci);
  s.Advance(s.now);
  return absl::OkStatus();
}

absl::StatusOr<ContactView> Engine::Impl::FindContact(std::string_view id,
                                                      bool full) const {
  if (auto it = contact_by_id.find(id); it != contact_by_id.end()) {
    return View(it->second, full);
  }
  if (auto it = ended.find(id); it != ended.end())
    return EndedView(id, it->second);
  return absl::NotFoundError(detail::Cat("contact '", id, "' not found"));
}

absl::StatusOr<ContactView> Engine::GetContact(std::string_view id, Time now) {
  impl_->Advance(now);
  return impl_->FindContact(id, /*full=*/true);
}

absl::StatusOr<ContactView> Engine::GetContactState(std::string_view id) const {
  return impl_->FindContact(id, /*full=*/false);
}

absl::Status Engine::Login(std::string_view agent_id, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto it = s.agent_by_id.find(agent_id);
  if (it == s.agent_by_id.end()) {
    return absl::NotFoundError(
        detail::Cat("agent '", agent_id, "' has no profile"));
  }
  Agent& a = s.agents[it->second];
  if (a.state != AgentState::kOffline) return absl::OkStatus();
  a.accounted_at = s.now;
  a.missed_offers = 0;
  s.SetAgentState(it->second, AgentState::kNotReady, "login");
  return absl::OkStatus();
}

absl::Status Engine::SetReady(std::string_view agent_id, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto ai = s.FindLoggedInAgent(agent_id);
  if (!ai.ok()) return ai.status();
  Agent& a = s.agents[*ai];
  if (a.state == AgentState::kReady) return absl::OkStatus();
  a.missed_offers = 0;
  a.idle_since = s.now;
  s.SetAgentState(*ai, AgentState::kReady, "");
  s.Serve(*ai);
  s.Advance(s.now);
  return absl::OkStatus();
}

absl::Status Engine::SetNotReady(std::string_view agent_id,
                                 std::string_view reason, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  if (reason.size() > s.limits.max_id_bytes) {
    return absl::InvalidArgumentError(
        detail::Cat("reason: longer than ", s.limits.max_id_bytes, " bytes"));
  }
  auto ai = s.FindLoggedInAgent(agent_id);
  if (!ai.ok()) return ai.status();
  Agent& a = s.agents[*ai];
  if (a.state == AgentState::kNotReady && a.reason == reason) {
    return absl::OkStatus();
  }
  s.SetAgentState(*ai, AgentState::kNotReady, reason);
  if (a.offer != kNone) {
    Index ci = a.offer;
    s.ReleaseOffer(ci, EventKind::kOfferRescinded);
    s.Requeue(ci);
  }
  s.Reindex(*ai);
  s.Advance(s.now);
  return absl::OkStatus();
}

absl::Status Engine::AgentDisconnected(std::string_view agent_id, Time now) {
  return SetNotReady(agent_id, "disconnected", now);
}

absl::Status Engine::Logout(std::string_view agent_id, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto ai = s.FindLoggedInAgent(agent_id);
  if (!ai.ok()) return ai.status();
  Agent& a = s.agents[*ai];
  int active = 0;
  for (const Work& w : a.work) active += w.phase == WorkPhase::kActive;
  if (active > 0) {
    return absl::FailedPreconditionError(
        detail::Cat("agent '", agent_id, "' has ", active,
                    " assigned contacts; complete or transfer them first"));
  }
  s.SetAgentState(*ai, AgentState::kOffline, "logout");
  if (a.offer != kNone) {
    Index ci = a.offer;
    s.ReleaseOffer(ci, EventKind::kOfferRescinded);
    s.Requeue(ci);
  }
  std::vector<uint64_t> wrap_ups;
  for (const Work& w : s.agents[*ai].work) wrap_ups.push_back(w.id);
  for (uint64_t id : wrap_ups) s.FinishWrapUp(*ai, id);
  std::vector<Index> reserved = s.agents[*ai].reserved;
  for (Index ci : reserved) s.EndReservation(ci);
  s.Reindex(*ai);
  s.Advance(s.now);
  return absl::OkStatus();
}

absl::Status Engine::ForceLogout(std::string_view agent_id,
                                 std::string_view reason, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto it = s.agent_by_id.find(agent_id);
  if (it == s.agent_by_id.end()) {
    return absl::NotFoundError(detail::Cat("agent '", agent_id, "' not found"));
  }
  Index ai = it->second;
  if (s.agents[ai].state == AgentState::kOffline) return absl::OkStatus();
  s.SetAgentState(ai, AgentState::kOffline, reason);
  if (s.agents[ai].offer != kNone) {
    Index ci = s.agents[ai].offer;
    s.ReleaseOffer(ci, EventKind::kOfferRescinded);
    s.Requeue(ci);
  }
  std::vector<Work> work = s.agents[ai].work;
  for (const Work& w : work) {
    if (w.phase == WorkPhase::kWrapUp) {
      s.FinishWrapUp(ai, w.id);
      continue;
    }
    s.ReturnToQueue(ai, w);
  }
  std::vector<Index> reserved = s.agents[ai].reserved;
  for (Index ci : reserved) s.EndReservation(ci);
  s.Reindex(ai);
  s.Advance(s.now);
  return absl::OkStatus();
}

// An assigned contact goes back to its queue, ahead of later arrivals.
void Engine::Impl::ReturnToQueue(Index ai, const Work& w) {
  Agent& a = agents[ai];
  Index ci = w.contact;
  Contact& c = contacts[ci];
  ChangeLoad(a, w.channel, -1);
  detail::EraseIf(a.work, [&](const Work& x) { return x.id == w.id; });
  c.agent = kNone;
  c.work_id = 0;
  EnterQueue(ci, c.queue, c.arrival, now);
  Emit(EventKind::kContactQueued, &contacts[ci]).agent_id = a.profile.id;
  Route(ci);
}

absl::Status Engine::ReturnContact(std::string_view agent_id,
                                   std::string_view contact_id, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto ai = s.FindLoggedInAgent(agent_id);
  if (!ai.ok()) return ai.status();
  auto ci =
      s.FindAgentContact(*ai, contact_id, ContactState::kAssigned, "return");
  if (!ci.ok()) return ci.status();
  Work work = *s.FindWork(s.agents[*ai], s.contacts[*ci].work_id);
  s.AddDecline(*ci, *ai);
  s.ReturnToQueue(*ai, work);
  s.Serve(*ai);
  s.Advance(s.now);
  return absl::OkStatus();
}

absl::Status Engine::AcceptOffer(std::string_view agent_id,
                                 std::string_view contact_id, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto ai = s.FindLoggedInAgent(agent_id);
  if (!ai.ok()) return ai.status();
  auto ci =
      s.FindAgentContact(*ai, contact_id, ContactState::kOffered, "accept");
  if (!ci.ok()) return ci.status();
  Contact& c = s.contacts[*ci];
  Agent& a = s.agents[*ai];
  Queue& q = *s.queues[c.queue];
  s.Disarm(c.offer_timer);
  Work* w = s.FindWork(a, c.work_id);
  w->phase = WorkPhase::kActive;
  w->assigned_at = s.now;
  a.offer = kNone;
  a.missed_offers = 0;
  a.idle_since = s.now;
  q.offered_now--;
  q.totals.offers_accepted++;
  s.Answered(*ci, *ai);
  s.Serve(*ai);
  s.Advance(s.now);
  return absl::OkStatus();
}

void Engine::Impl::Answered(Index ci, Index ai) {
  Contact& c = contacts[ci];
  Agent& a = agents[ai];
  Queue& q = *queues[c.queue];
  LeaveQueue(ci);
  Disarm(c.reoffer_timer);
  for (const detail::Decline& d : c.declined) {
    detail::EraseIf(agents[d.agent].declined,
                    [&](const detail::DeclinedContact& x) {
                      return x.contact == ci && x.seq == c.seq;
                    });
  }
  c.declined.clear();
  c.state = ContactState::kAssigned;
  Duration wait = now - c.arrival;
  c.waited = wait;
  bool within = wait <= q.config.service_level_target;
  q.totals.answered++;
  auto& win = q.window.At(now);
  win.answered++;
  win.answered_within_target += within;
  win.answer_delay_ns += wait.count();
  RememberAgent(c.customer_id, a.profile.id);
  Event& e = Emit(EventKind::kContactAssigned, &c);
  e.agent_id = a.profile.id;
  e.wait = wait;
  e.within_target = within;
}

absl::Status Engine::ReclaimContact(std::string_view agent_id,
                                    std::string_view contact_id, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto ai = s.FindLoggedInAgent(agent_id);
  if (!ai.ok()) return ai.status();
  auto it = s.contact_by_id.find(contact_id);
  if (it == s.contact_by_id.end()) {
    return absl::NotFoundError(
        detail::Cat("contact '", contact_id, "' is not live"));
  }
  const Index ci = it->second;
  Contact& c = s.contacts[ci];
  switch (c.state) {
    case ContactState::kAssigned:
    case ContactState::kWrapUp:
      if (c.agent == *ai) return absl::OkStatus();
      return absl::FailedPreconditionError(
          detail::Cat("contact '", contact_id, "' is assigned to agent '",
                      s.agents[c.agent].profile.id, "'"));
    case ContactState::kScheduled:
      return absl::FailedPreconditionError(detail::Cat(
          "contact '", contact_id, "' is a callback that is not yet due"));
    case ContactState::kOffered:
      if (c.agent == *ai) return AcceptOffer(agent_id, contact_id, s.now);
      break;
    case ContactState::kQueued:
      break;
    case ContactState::kEnded:
      return absl::NotFoundError(
          detail::Cat("contact '", contact_id, "' is not live"));
  }
  if (c.reclaimable_by != agent_id) {
    return absl::FailedPreconditionError(
        detail::Cat("contact '", contact_id, "' was not offered to agent '",
                    agent_id, "'"));
  }
  Agent& a = s.agents[*ai];
  if (!Impl::HasRoom(a, c.channel)) {
    return absl::ResourceExhaustedError(
        detail::Cat("agent '", agent_id, "' has no room for another ",
                    ChannelName(c.channel), " contact"));
  }
  Index other = kNone;
  if (c.state == ContactState::kOffered) {
    other = c.agent;
    s.ReleaseOffer(ci, EventKind::kOfferRescinded);
  }
  c.agent = *ai;
  c.work_id = s.next_seq++;
  a.work.push_back({c.work_id, ci, c.id, c.queue, c.channel, WorkPhase::kActive,
                    s.now, TimerKey{}});
  s.ChangeLoad(a, c.channel, +1);
  s.Answered(ci, *ai);
  s.Reindex(*ai);
  // The agent whose offer was taken back is free for another contact.
  if (other != kNone) s.Serve(other);
  s.Advance(s.now);
  return absl::OkStatus();
}

std::vector<std::string> Engine::LiveContactsOf(
    std::string_view gateway) const {
  const Impl& s = *impl_;
  std::vector<std::pair<uint64_t, std::string>> found;
  for (const Contact& c : s.contacts) {
    if (c.live && c.gateway == gateway) found.emplace_back(c.seq, c.id);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (auto& [seq, id] : found) ids.push_back(std::move(id));
  return ids;
}

absl::Status Engine::RejectOffer(std::string_view agent_id,
                                 std::string_view contact_id, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto ai = s.FindLoggedInAgent(agent_id);
  if (!ai.ok()) return ai.status();
  auto ci =
      s.FindAgentContact(*ai, contact_id, ContactState::kOffered, "reject");
  if (!ci.ok()) return ci.status();
  s.Emit(EventKind::kOfferRejected, &s.contacts[*ci]).agent_id =
      std::string(agent_id);
  s.queues[s.contacts[*ci].queue]->totals.offers_rejected++;
  s.AddDecline(*ci, *ai);
  s.ReleaseOffer(*ci, EventKind::kOfferRejected);
  s.Requeue(*ci);
  s.Serve(*ai);
  s.Advance(s.now);
  return absl::OkStatus();
}

absl::Status Engine::CompleteContact(std::string_view agent_id,
                                     std::string_view contact_id,
                                     std::string_view wrap_up_code, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  if (wrap_up_code.size() > s.limits.max_id_bytes) {
    return absl::InvalidArgumentError(detail::Cat(
        "wrap_up_code: longer than ", s.limits.max_id_bytes, " bytes"));
  }
  auto ai = s.FindLoggedInAgent(agent_id);
  if (!ai.ok()) return ai.status();
  auto ci =
      s.FindAgentContact(*ai, contact_id, ContactState::kAssigned, "complete");
  if (!ci.ok()) return ci.status();
  Contact& c = s.contacts[*ci];
  Agent& a = s.agents[*ai];
  c.state = ContactState::kWrapUp;
  Work* w = s.FindWork(a, c.work_id);
  w->phase = WorkPhase::kWrapUp;
  Duration wrap = a.profile.wrap_up[static_cast<int>(c.channel)];
  Event& e = s.Emit(EventKind::kContactWrapUp, &c);
  e.agent_id = a.profile.id;
  e.reason = std::string(wrap_up_code);
  e.deadline = s.now + wrap;
  if (wrap > Duration::zero()) {
    w->wrap_up_timer =
        s.Arm(s.now + wrap, {TimerKind::kWrapUpEnd, *ai, c.work_id});
  } else {
    s.FinishWrapUp(*ai, c.work_id);
  }
  s.Advance(s.now);
  return absl::OkStatus();
}

absl::Status Engine::EndWrapUp(std::string_view agent_id,
                               std::string_view contact_id, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto ai = s.FindLoggedInAgent(agent_id);
  if (!ai.ok()) return ai.status();
  for (const Work& w : s.agents[*ai].work) {
    if (w.phase == WorkPhase::kWrapUp && w.contact_id == contact_id) {
      s.FinishWrapUp(*ai, w.id);
      s.Advance(s.now);
      return absl::OkStatus();
    }
  }
  return absl::FailedPreconditionError(
      detail::Cat("agent '", agent_id, "' is not in wrap-up of contact '",
                  contact_id, "'"));
}

absl::Status Engine::TransferContact(std::string_view agent_id,
                                     std::string_view contact_id,
                                     std::string_view queue, Time now) {
  Impl& s = *impl_;
  s.Advance(now);
  auto ai = s.FindLoggedInAgent(agent_id);
  if (!ai.ok()) return ai.status();
  auto ci =
      s.FindAgentContact(*ai, contact_id, ContactState::kAssigned, "transfer");
  if (!ci.ok()) return ci.status();
  Queue* to = s.FindQueue(queue);
  if (to == nullptr) {
    return absl::NotFoundError(detail::Cat("queue '", queue, "' not found"));
  }
  Contact& c = s.contacts[*ci];
  if (!to->config.TakesChannel(c.channel)) {
    return absl::InvalidArgumentError(
        detail::Cat("queue: '", queue, "' does not take ",
                    ChannelName(c.channel), " contacts"));
  }
  if (to->config.max_waiting > 0 &&
      static_cast<int>(to->positions.size()) >= to->config.max_waiting) {
    return absl::ResourceExhaustedError(detail::Cat(
        "queue '", queue, "' is full (", to->config.max_waiting, " waiting)"));
  }
  Agent& a = s.agents[*ai];
  Work* w = s.FindWork(a, c.work_id);
  uint64_t work_id = c.work_id;
  w->phase = WorkPhase::kWrapUp;
  w->contact = kNone;
  Queue& from = *s.queues[c.queue];
  std::string from_name = from.config.name;
  from.live_contacts--;
  to->live_contacts++;
  to->totals.transferred_in++;
  Index to_idx = s.queue_by_name.at(to->config.name);
  c.agent = kNone;
  c.work_id = 0;
  c.preferred_agent.clear();
  s.EnterQueue(*ci, to_idx, s.now, s.now);
  Event& e = s.Emit(EventKind::kContactTransferred, &s.contacts[*ci]);
  e.agent_id = std::string(agent_id);
  e.from_queue = from_name;
  Duration wrap = a.profile.wrap_up[static_cast<int>(w->channel)];
  if (wrap > Duration::zero()) {
    w->wrap_up_timer =
        s.Arm(s.now + wrap, {TimerKind::kWrapUpEnd, *ai, work_id});
  }
  s.Route(*ci);
  if (wrap <= Duration::zero()) s.FinishWrapUp(*ai, work_id);
  s.Advance(s.now);
  return absl::OkStatus();
}

void Engine::AdvanceTo(Time now) { impl_->Advance(now); }

std::optional<Time> Engine::NextDeadline() const {
  if (impl_->timers.empty()) return std::nullopt;
  return FromNs(impl_->timers.begin()->first.when);
}

Time Engine::now() const { return impl_->now; }

void Engine::TakeEvents(std::vector<Event>& out) {
  if (out.empty()) {
    out.swap(impl_->events);
  } else {
    std::move(impl_->events.begin(), impl_->events.end(),
              std::back_inserter(out));
  }
  impl_->events.clear();
}

absl::StatusOr<QueueStats> Engine::GetQueueStats(std::string_view queue,
                                                 Time now) {
  impl_->Advance(now);
  auto it = impl_->queue_by_name.find(queue);
  if (it == impl_->queue_by_name.end()) {
    return absl::NotFoundError(detail::Cat("queue '", queue, "' not found"));
  }
  return impl_->StatsFor(it->second);
}

std::vector<QueueStats> Engine::GetAllQueueStats(Time now) {
  impl_->Advance(now);
  std::vector<QueueStats> out;
  for (Index qi = 0; qi < impl_->queues.size(); ++qi) {
    if (impl_->queues[qi]->live) out.push_back(impl_->StatsFor(qi));
  }
  return out;
}

absl::StatusOr<AgentStats> Engine::GetAgentStats(std::string_view agent_id,
                                                 Time now) {
  impl_->Advance(now);
  auto it = impl_->agent_by_id.find(agent_id);
  if (it == impl_->agent_by_id.end()) {
    return absl::NotFoundError(detail::Cat("agent '", agent_id, "' not found"));
  }
  return impl_->AgentStatsFor(it->second);
}

std::vector<AgentStats> Engine::GetAllAgentStats(Time now) {
  impl_->Advance(now);
  std::vector<AgentStats> out;
  for (Index ai = 0; ai < impl_->agents.size(); ++ai) {
    if (impl_->agents[ai].live) out.push_back(impl_->AgentStatsFor(ai));
  }
  return out;
}

size_t Engine::live_contacts() const { return impl_->live_contact_count; }

absl::Status Engine::CheckInvariants() const {
  return impl_->CheckInvariants();
}

}  // namespace ccroute::core
