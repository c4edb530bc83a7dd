// Engine::CheckInvariants: recomputes everything the engine keeps
// incrementally and compares. Slow on purpose; tests and fuzzing only.
#include <algorithm>
#include <set>

#include "server/core/detail/engine_impl.h"
#include "server/core/detail/strings.h"

namespace ccroute::core {

using detail::Agent;
using detail::AgentKey;
using detail::Contact;
using detail::ContactClass;
using detail::ContactKey;
using detail::Index;
using detail::kAnySkill;
using detail::kNone;
using detail::Ns;
using detail::TimerKey;
using detail::TimerKind;
using detail::Work;
using detail::WorkPhase;

namespace {

#define CHECK_OR_RETURN(cond, ...)                                 \
  do {                                                             \
    if (!(cond)) {                                                 \
      return absl::InternalError(                                  \
          detail::Cat("invariant: ", #cond, " -- ", __VA_ARGS__)); \
    }                                                              \
  } while (0)

bool SameKey(const ContactKey& a, const ContactKey& b) {
  return a.neg_priority == b.neg_priority && a.arrival == b.arrival &&
         a.seq == b.seq && a.contact == b.contact;
}

}  // namespace

absl::Status Engine::Impl::CheckInvariants() const {
  // Timers: every pending timer is owned by the entity it names.
  size_t armed = 0;
  auto owns = [&](const TimerKey& key, TimerKind kind, Index target) {
    auto it = timers.find(key);
    return it != timers.end() && it->second.kind == kind &&
           it->second.target == target;
  };

  // Contacts.
  std::vector<int> class_refs(classes.size(), 0);
  std::vector<int> queue_positions(queues.size(), 0);
  std::vector<int> queue_offered(queues.size(), 0);
  std::vector<int> queue_scheduled(queues.size(), 0);
  std::vector<int> queue_live(queues.size(), 0);
  size_t live = 0, in_class = 0;
  for (Index ci = 0; ci < contacts.size(); ++ci) {
    const Contact& c = contacts[ci];
    if (!c.live) continue;
    live++;
    std::string who =
        detail::Cat("contact ", c.id, " (", ContactStateName(c.state), ")");
    auto by_id = contact_by_id.find(c.id);
    CHECK_OR_RETURN(by_id != contact_by_id.end() && by_id->second == ci, who);
    CHECK_OR_RETURN(c.queue < queues.size() && queues[c.queue]->live, who);
    const detail::Queue& q = *queues[c.queue];
    queue_live[c.queue]++;
    if (c.cls != kNone) class_refs[c.cls]++;
    for (const TimerKey* k :
         {&c.offer_timer, &c.escalation_timer, &c.preferred_timer,
          &c.callback_timer, &c.max_wait_timer, &c.reoffer_timer}) {
      armed += k->armed();
    }
    CHECK_OR_RETURN(!c.offer_timer.armed() ||
                        owns(c.offer_timer, TimerKind::kOfferTimeout, ci),
                    who);
    CHECK_OR_RETURN(!c.escalation_timer.armed() ||
                        owns(c.escalation_timer, TimerKind::kEscalation, ci),
                    who);
    CHECK_OR_RETURN(!c.preferred_timer.armed() ||
                        owns(c.preferred_timer, TimerKind::kPreferredEnd, ci),
                    who);
    CHECK_OR_RETURN(!c.callback_timer.armed() ||
                        owns(c.callback_timer, TimerKind::kCallbackDue, ci),
                    who);
    CHECK_OR_RETURN(!c.max_wait_timer.armed() ||
                        owns(c.max_wait_timer, TimerKind::kMaxWait, ci),
                    who);
    CHECK_OR_RETURN(!c.reoffer_timer.armed() ||
                        owns(c.reoffer_timer, TimerKind::kReofferAllowed, ci),
                    who);
    bool waiting =
        c.state == ContactState::kQueued || c.state == ContactState::kOffered;
    bool positioned = q.positions.find(c.Key(ci)) != q.positions.end();
    CHECK_OR_RETURN(waiting == positioned, who, " position index");
    CHECK_OR_RETURN(waiting == q.by_arrival.contains({Ns(c.arrival), c.seq}),
                    who, " arrival index");
    if (waiting) queue_positions[c.queue]++;
    // A contact in a class sits under its current key, in the class its
    // queue, step and requirements call for.
    if (c.in_class) {
      in_class++;
      const ContactClass& k = classes[c.cls];
      CHECK_OR_RETURN(k.waiting.contains(c.Key(ci)), who);
    }
    if (waiting) {
      CHECK_OR_RETURN(c.cls != kNone && classes[c.cls].live, who);
      const ContactClass& k = classes[c.cls];
      CHECK_OR_RETURN(k.key.queue == c.queue && k.key.channel == c.channel,
                      who);
      CHECK_OR_RETURN(k.key.reqs == EffectiveReqs(q, c.step, c), who,
                      " class requirements");
    }
    switch (c.state) {
      case ContactState::kScheduled:
        queue_scheduled[c.queue]++;
        CHECK_OR_RETURN(!c.in_class && !c.reserved && c.agent == kNone, who);
        CHECK_OR_RETURN(c.callback_timer.armed(), who);
        break;
      case ContactState::kQueued:
        CHECK_OR_RETURN(c.in_class != c.reserved, who,
                        " waits in exactly one place");
        CHECK_OR_RETURN(c.agent == kNone && !c.offer_timer.armed(), who);
        if (c.reserved) {
          auto it = agent_by_id.find(c.preferred_agent);
          CHECK_OR_RETURN(it != agent_by_id.end(), who);
          const Agent& p = agents[it->second];
          CHECK_OR_RETURN(
              std::count(p.reserved.begin(), p.reserved.end(), ci) == 1, who);
          CHECK_OR_RETURN(p.state != AgentState::kOffline, who);
          CHECK_OR_RETURN(now < c.preferred_until, who);
        }
        break;
      case ContactState::kOffered: {
        queue_offered[c.queue]++;
        CHECK_OR_RETURN(!c.in_class && !c.reserved, who);
        CHECK_OR_RETURN(c.agent != kNone && agents[c.agent].offer == ci, who);
        CHECK_OR_RETURN(c.offer_timer.armed(), who);
        const Agent& a = agents[c.agent];
        CHECK_OR_RETURN(a.state == AgentState::kReady, who,
                        " offered to an agent not ready");
        CHECK_OR_RETURN(Satisfies(a, classes[c.cls].key.reqs), who,
                        " offered to an agent lacking a required skill");
        break;
      }
      case ContactState::kAssigned:
      case ContactState::kWrapUp: {
        CHECK_OR_RETURN(c.agent != kNone && !c.in_class && !c.reserved, who);
        CHECK_OR_RETURN(c.cls == kNone, who);
        const Agent& a = agents[c.agent];
        bool found = false;
        for (const Work& w : a.work) {
          if (w.id == c.work_id && w.contact == ci) {
            found = true;
            CHECK_OR_RETURN((w.phase == WorkPhase::kActive) ==
                                (c.state == ContactState::kAssigned),
                            who);
          }
        }
        CHECK_OR_RETURN(found, who, " not in its agent's work");
        break;
      }
      case ContactState::kEnded:
        CHECK_OR_RETURN(false, who, " ended contacts are not kept live");
    }
  }
  CHECK_OR_RETURN(live == live_contact_count, live, " vs ", live_contact_count);
  CHECK_OR_RETURN(live == contact_by_id.size(), live);

  // Classes.
  size_t waiting_total = 0, live_classes = 0;
  for (Index k = 0; k < classes.size(); ++k) {
    const ContactClass& cls = classes[k];
    if (!cls.live) {
      CHECK_OR_RETURN(class_refs[k] == 0, "dead class ", k);
      continue;
    }
    live_classes++;
    auto it = class_by_key.find(cls.key);
    CHECK_OR_RETURN(it != class_by_key.end() && it->second == k, "class ", k);
    CHECK_OR_RETURN(cls.refs == class_refs[k], "class ", k, " refs ", cls.refs,
                    " vs ", class_refs[k]);
    waiting_total += cls.waiting.size();
    for (const ContactKey& key : cls.waiting) {
      const Contact& c = contacts[key.contact];
      CHECK_OR_RETURN(c.live && c.in_class && c.cls == k &&
                          SameKey(c.Key(key.contact), key),
                      "class ", k, " holds a stale key");
    }
    int ready_agents = 0, ready_capacity = 0;
    for (const Agent& a : agents) {
      if (a.live && a.state == AgentState::kReady && EligibleFor(a, cls)) {
        ready_agents++;
        ready_capacity += a.profile.capacity[static_cast<int>(cls.key.channel)];
      }
    }
    CHECK_OR_RETURN(cls.ready_agents == ready_agents &&
                        cls.ready_capacity == ready_capacity,
                    "class ", k, " ready counts");
    int available = 0;
    for (const Agent& a : agents) {
      if (available_counted && a.live && Available(a, cls.key.channel) &&
          EligibleFor(a, cls)) {
        available++;
      }
    }
    CHECK_OR_RETURN(cls.available_agents == available, "class ", k,
                    " available agents ", cls.available_agents, " vs ",
                    available);
  }
  CHECK_OR_RETURN(waiting_total == in_class, waiting_total, " vs ", in_class);
  CHECK_OR_RETURN(live_classes == live_class_count, "class count");

  // Queues.
  for (Index qi = 0; qi < queues.size(); ++qi) {
    const detail::Queue& q = *queues[qi];
    std::string who = detail::Cat("queue ", q.config.name);
    CHECK_OR_RETURN(static_cast<int>(q.positions.size()) == queue_positions[qi],
                    who);
    CHECK_OR_RETURN(q.by_arrival.size() == q.positions.size(), who);
    CHECK_OR_RETURN(q.offered_now == queue_offered[qi], who);
    CHECK_OR_RETURN(q.scheduled == queue_scheduled[qi], who);
    CHECK_OR_RETURN(q.live_contacts == queue_live[qi], who, " live ",
                    q.live_contacts, " vs ", queue_live[qi]);
  }

  // Agents.
  std::set<Index> offered;
  for (Index ai = 0; ai < agents.size(); ++ai) {
    const Agent& a = agents[ai];
    std::string who = detail::Cat("agent ", a.profile.id);
    if (!a.live) {
      CHECK_OR_RETURN(a.indexed_mask == 0 && a.work.empty(), who);
      continue;
    }
    std::array<int, kChannelCount> load{};
    int offers = 0;
    for (const Work& w : a.work) {
      load[static_cast<int>(w.channel)]++;
      if (w.wrap_up_timer.armed()) {
        armed++;
        auto it = timers.find(w.wrap_up_timer);
        CHECK_OR_RETURN(
            it != timers.end() && it->second.kind == TimerKind::kWrapUpEnd &&
                it->second.target == ai && it->second.work_id == w.id,
            who);
      }
      CHECK_OR_RETURN(!w.wrap_up_timer.armed() || w.phase == WorkPhase::kWrapUp,
                      who);
      if (w.phase == WorkPhase::kOffered) {
        offers++;
        CHECK_OR_RETURN(a.offer == w.contact, who);
      }
      if (w.contact != kNone) {
        const Contact& c = contacts[w.contact];
        CHECK_OR_RETURN(c.live && c.agent == ai && c.work_id == w.id, who,
                        " work item for ", w.contact_id);
      }
    }
    CHECK_OR_RETURN(offers == (a.offer != kNone ? 1 : 0), who,
                    " at most one open offer");
    if (a.offer != kNone) {
      CHECK_OR_RETURN(offered.insert(a.offer).second, who,
                      " contact offered to two agents");
    }
    bool voice = false;
    for (int c = 0; c < kChannelCount; ++c) {
      CHECK_OR_RETURN(load[c] == a.load[c], who, " load");
      CHECK_OR_RETURN(a.load[c] <= a.profile.capacity[c], who,
                      " exceeds its capacity on ",
                      ChannelName(static_cast<Channel>(c)));
      voice = voice || (IsVoiceLike(static_cast<Channel>(c)) && load[c] > 0);
    }
    if (a.profile.voice_blocks_other_channels && voice) {
      CHECK_OR_RETURN(a.load[static_cast<int>(Channel::kVoice)] +
                              a.load[static_cast<int>(Channel::kCallback)] ==
                          a.total_load(),
                      who, " has other work beside a voice contact");
    }
    if (a.state == AgentState::kOffline) {
      CHECK_OR_RETURN(a.work.empty() && a.reserved.empty(), who);
    }
    // The availability index holds exactly the available channels.
    CHECK_OR_RETURN(a.indexed_mask == AvailableMask(a), who, " index mask");
    CHECK_OR_RETURN(a.indexed_skills == a.skills, who);
    for (Index ci : a.reserved) {
      CHECK_OR_RETURN(contacts[ci].live && contacts[ci].reserved &&
                          contacts[ci].preferred_agent == a.profile.id,
                      who);
    }
    std::vector<Index> eligible;
    for (Index k = 0; k < classes.size(); ++k) {
      if (classes[k].live && EligibleFor(a, classes[k])) eligible.push_back(k);
    }
    std::vector<Index> listed = a.eligible_classes;
    std::sort(listed.begin(), listed.end());
    CHECK_OR_RETURN(listed == eligible, who, " eligible classes");
  }
  CHECK_OR_RETURN(armed == timers.size(), "timers ", timers.size(),
                  " vs armed ", armed);

  // Index entries match the agents' own view.
  for (int ordering = 0; ordering < 2; ++ordering) {
    for (int c = 0; c < kChannelCount; ++c) {
      size_t entries = 0, expected = 0;
      const auto& by_skill = agent_index[ordering][c];
      for (detail::SkillId s = 0; s < by_skill.size(); ++s) {
        for (int l = 1; l <= kMaxSkillLevel; ++l) {
          for (const AgentKey& key : by_skill[s].by_level[l - 1]) {
            entries++;
            const Agent& a = agents[key.agent];
            CHECK_OR_RETURN(
                ordering == detail::kByIdle || occupancy_index_enabled,
                "occupancy index off but filled");
            CHECK_OR_RETURN(a.indexed_mask & (1u << c), "agent ", a.profile.id,
                            " indexed but not available");
            CHECK_OR_RETURN(
                s == kAnySkill ? any_skill_indexed && l == kMaxSkillLevel
                               : a.level(s) == l,
                "agent ", a.profile.id, " indexed at the wrong level");
            const AgentKey& want = ordering == detail::kByIdle
                                       ? a.indexed_idle_key
                                       : a.indexed_occupancy_keys[c];
            CHECK_OR_RETURN(key == want, "stale index key");
          }
        }
      }
      if (ordering == detail::kByOccupancy && !occupancy_index_enabled) {
        continue;
      }
      for (const Agent& a : agents) {
        if (a.indexed_mask & (1u << c)) {
          expected += (any_skill_indexed ? 1 : 0) + a.skills.size();
        }
      }
      CHECK_OR_RETURN(entries == expected, "index entries ", entries, " vs ",
                      expected);
      for (const Agent& a : agents) {
        if (!(a.indexed_mask & (1u << c))) continue;
        AgentKey want = ordering == detail::kByIdle
                            ? AgentKey{0, Ns(a.idle_since),
                                       static_cast<Index>(&a - agents.data())}
                            : OccupancyKey(a, static_cast<Channel>(c));
        CHECK_OR_RETURN(
            (ordering == detail::kByIdle ? a.indexed_idle_key
                                         : a.indexed_occupancy_keys[c]) == want,
            "agent ", a.profile.id, " index key out of date");
      }
    }
  }

  // Each class head mirrors its class.
  CHECK_OR_RETURN(class_heads.size() >= classes.size(), "class heads missing");
  for (Index k = 0; k < classes.size(); ++k) {
    const detail::ContactClass& cls = classes[k];
    const detail::ClassHead& head = class_heads[k];
    bool waiting = cls.live && !cls.waiting.empty();
    CHECK_OR_RETURN(head.waiting == waiting, "class ", k, " head out of date");
    if (!waiting) continue;
    const ContactKey& first = *cls.waiting.begin();
    CHECK_OR_RETURN(
        head.key.contact == first.contact && head.key.seq == first.seq &&
            head.key.arrival == first.arrival &&
            head.key.neg_priority == first.neg_priority &&
            head.channel == cls.key.channel &&
            head.target == queues[cls.key.queue]->config.service_level_target,
        "class ", k, " head out of date");
  }

  // The skill rosters list exactly the live agents holding each skill.
  size_t rostered = 0, held = 0;
  for (detail::SkillId k = 0; k < agents_by_skill.size(); ++k) {
    for (Index ai : agents_by_skill[k]) {
      rostered++;
      CHECK_OR_RETURN(agents[ai].live && agents[ai].level(k) > 0, "agent ",
                      agents[ai].profile.id, " in the roster of skill ",
                      skill_names[k], " it does not hold");
    }
  }
  for (const Agent& a : agents) held += a.live ? a.skills.size() : 0;
  CHECK_OR_RETURN(rostered == held, "skill rosters hold ", rostered,
                  " entries for ", held, " skills");

  // Each skill id is held by exactly what counts in skill_refs; a free id
  // has no name, no holder and nobody indexed or rostered under it.
  std::vector<uint32_t> refs(skill_names.size(), 0);
  auto hold = [&](const detail::ReqList& reqs) {
    for (const detail::Req& r : reqs) {
      if (r.skill < refs.size()) refs[r.skill]++;
    }
  };
  for (const Agent& a : agents) {
    if (a.live) hold(a.skills);
  }
  for (const auto& q : queues) {
    if (!q || !q->live) continue;
    for (const detail::ReqList& reqs : q->step_reqs) hold(reqs);
  }
  for (const Contact& c : contacts) {
    if (c.live) hold(c.extra);
  }
  for (const ContactClass& k : classes) {
    if (k.live) hold(k.key.reqs);
  }
  CHECK_OR_RETURN(skill_refs.size() == skill_names.size(), "skill_refs size");
  CHECK_OR_RETURN(refs[detail::kAnySkill] == 0, "a list holds skill '*'");
  std::vector<bool> is_free(skill_names.size(), false);
  for (detail::SkillId id : free_skill_ids) {
    CHECK_OR_RETURN(
        id != detail::kAnySkill && id < skill_names.size() && !is_free[id],
        "free skill id ", id);
    is_free[id] = true;
  }
  for (detail::SkillId k = 1; k < skill_names.size(); ++k) {
    CHECK_OR_RETURN(refs[k] == skill_refs[k], "skill ", skill_names[k],
                    " held ", refs[k], " times, counted ", skill_refs[k]);
    if (!is_free[k]) {
      auto it = skill_ids.find(skill_names[k]);
      CHECK_OR_RETURN(
          !skill_names[k].empty() && it != skill_ids.end() && it->second == k,
          "skill ", k, " '", skill_names[k], "' not interned");
      continue;
    }
    CHECK_OR_RETURN(skill_names[k].empty() && refs[k] == 0, "free skill id ", k,
                    " named '", skill_names[k], "' or held");
    CHECK_OR_RETURN(k >= agents_by_skill.size() || agents_by_skill[k].empty(),
                    "free skill id ", k, " has a roster");
    for (const auto& by_channel : agent_index) {
      for (const auto& by_skill : by_channel) {
        if (k >= by_skill.size()) continue;
        for (const auto& set : by_skill[k].by_level) {
          CHECK_OR_RETURN(set.empty(), "free skill id ", k, " is indexed");
        }
      }
    }
  }
  CHECK_OR_RETURN(
      skill_ids.size() + 1 + free_skill_ids.size() == skill_names.size(),
      "skill_ids holds ", skill_ids.size(), " names");

  // No agent sits available beside a contact it could take.
  for (Index ci = 0; ci < contacts.size(); ++ci) {
    const Contact& c = contacts[ci];
    if (!c.live || c.state != ContactState::kQueued) continue;
    if (c.reserved) {
      Index p = agent_by_id.at(c.preferred_agent);
      CHECK_OR_RETURN(!Available(agents[p], c.channel) || IsDeclined(c, p),
                      "contact ", c.id, " waits for agent ", c.preferred_agent,
                      " who is available");
      continue;
    }
    for (Index ai = 0; ai < agents.size(); ++ai) {
      const Agent& a = agents[ai];
      if (!a.live || !Available(a, c.channel)) continue;
      CHECK_OR_RETURN(!EligibleFor(a, classes[c.cls]) || IsDeclined(c, ai),
                      "contact ", c.id, " waits while agent ", a.profile.id,
                      " is available for it");
    }
  }
  return absl::OkStatus();
}

}  // namespace ccroute::core
