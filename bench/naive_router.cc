#include "bench/naive_router.h"

#include <algorithm>

namespace ccroute::bench {
namespace {

using core::Channel;

int64_t Ns(core::Time t) { return t.time_since_epoch().count(); }
uint32_t Bit(Channel c) { return 1u << static_cast<int>(c); }
// Debian's abseil has its own string_view type.
absl::string_view Key(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace

NaiveRouter::NaiveRouter(core::RoutingPolicy policy) : policy_(policy) {}

uint32_t NaiveRouter::Intern(const std::string& skill) {
  auto [it, fresh] =
      skill_ids_.try_emplace(skill, static_cast<uint32_t>(skill_ids_.size()));
  return it->second;
}

NaiveRouter::SkillLevels NaiveRouter::InternAll(
    const std::vector<core::SkillRequirement>& reqs) {
  SkillLevels out;
  for (const auto& r : reqs) out.emplace_back(Intern(r.skill), r.min_level);
  std::sort(out.begin(), out.end());
  return out;
}

bool NaiveRouter::Satisfies(const SkillLevels& skills,
                            const SkillLevels& reqs) {
  size_t i = 0;
  for (const auto& [skill, level] : reqs) {
    while (i < skills.size() && skills[i].first < skill) ++i;
    if (i == skills.size() || skills[i].first != skill ||
        skills[i].second < level) {
      return false;
    }
  }
  return true;
}

// The same rule as ccroute's: room on the channel, one open offer at most,
// and a voice contact excludes everything else.
bool NaiveRouter::Available(const Agent& a, Channel ch) const {
  int c = static_cast<int>(ch);
  if (a.offer >= 0 || a.load[c] >= a.capacity[c]) return false;
  if (a.voice_blocks) {
    int voice = a.load[static_cast<int>(Channel::kVoice)] +
                a.load[static_cast<int>(Channel::kCallback)];
    if (voice > 0) return false;
    int total = 0;
    for (int l : a.load) total += l;
    if (core::IsVoiceLike(ch) && total > 0) return false;
  }
  return true;
}

void NaiveRouter::AddQueue(const core::QueueConfig& config) {
  Queue q;
  q.reqs = InternAll(config.requirements);
  q.target_ns = config.service_level_target.count();
  queue_by_name_.emplace(config.name, static_cast<uint32_t>(queues_.size()));
  queues_.push_back(std::move(q));
  channels_.push_back(config.channels);
}

void NaiveRouter::AddReadyAgent(const core::AgentProfile& profile,
                                core::Time now) {
  now_ = std::max(now_, Ns(now));
  uint32_t ai = static_cast<uint32_t>(agents_.size());
  Agent a;
  a.id = profile.id;
  for (const auto& s : profile.skills) {
    a.skills.emplace_back(Intern(s.name), s.level);
  }
  std::sort(a.skills.begin(), a.skills.end());
  a.capacity = profile.capacity;
  a.voice_blocks = profile.voice_blocks_other_channels;
  a.idle_since = now_;
  for (uint32_t qi = 0; qi < queues_.size(); ++qi) {
    bool has_channel = false;
    for (int c = 0; c < core::kChannelCount; ++c) {
      has_channel |= ((channels_[qi] >> c) & 1u) && a.capacity[c] > 0;
    }
    if (has_channel && Satisfies(a.skills, queues_[qi].reqs)) {
      queues_[qi].members.push_back(ai);
    }
  }
  agent_by_id_.emplace(a.id, ai);
  agents_.push_back(std::move(a));
  Serve(ai);
}

void NaiveRouter::Wait(uint32_t ci) {
  Contact& c = contacts_[ci];
  c.state = State::kWaiting;
  c.waiting_slot = waiting_.size();
  waiting_.push_back(ci);
}

void NaiveRouter::StopWaiting(uint32_t ci) {
  size_t slot = contacts_[ci].waiting_slot;
  waiting_[slot] = waiting_.back();
  contacts_[waiting_[slot]].waiting_slot = slot;
  waiting_.pop_back();
}

// Decision 1, Asterisk-style: every member of the queue is looked at.
void NaiveRouter::Route(uint32_t ci) {
  const Contact& c = contacts_[ci];
  int64_t best = -1;
  for (uint32_t ai : queues_[c.queue].members) {
    const Agent& a = agents_[ai];
    if (!Available(a, c.channel) || !Satisfies(a.skills, c.extra)) continue;
    bool declined = false;
    for (const Decline& d : c.declined) {
      declined |= d.who == ai && d.until > now_;
    }
    if (declined) continue;
    if (best < 0 || a.idle_since < agents_[best].idle_since ||
        (a.idle_since == agents_[best].idle_since && ai < best)) {
      best = ai;
    }
  }
  if (best >= 0) Offer(ci, static_cast<uint32_t>(best));
}

// Decision 2, mod_callcenter-style: every waiting contact is ranked.
void NaiveRouter::Serve(uint32_t ai) {
  Agent& a = agents_[ai];
  uint32_t mask = 0;
  for (int c = 0; c < core::kChannelCount; ++c) {
    if (Available(a, static_cast<Channel>(c))) mask |= 1u << c;
  }
  if (mask == 0) return;
  std::erase_if(a.declined, [&](const Decline& d) { return d.until <= now_; });
  int64_t best = -1;
  int64_t best_target = 0;
  for (uint32_t ci : waiting_) {
    const Contact& c = contacts_[ci];
    if (!(mask & Bit(c.channel))) continue;
    const Queue& q = queues_[c.queue];
    if (!Satisfies(a.skills, q.reqs) || !Satisfies(a.skills, c.extra)) {
      continue;
    }
    bool declined = false;
    for (const Decline& d : a.declined) {
      declined |= d.who == ci && d.seq == c.seq;
    }
    if (declined) continue;
    if (best >= 0) {
      const Contact& b = contacts_[best];
      if (c.priority != b.priority) {
        if (c.priority < b.priority) continue;
      } else if (q.target_ns != best_target &&
                 static_cast<__int128>(now_ - c.arrival) * best_target !=
                     static_cast<__int128>(now_ - b.arrival) * q.target_ns) {
        // Urgency wait / target, compared without division.
        if (static_cast<__int128>(now_ - c.arrival) * best_target <
            static_cast<__int128>(now_ - b.arrival) * q.target_ns) {
          continue;
        }
      } else if (c.arrival != b.arrival) {
        if (c.arrival > b.arrival) continue;
      } else if (c.seq > b.seq) {
        continue;
      }
    }
    best = ci;
    best_target = q.target_ns;
  }
  if (best >= 0) Offer(static_cast<uint32_t>(best), ai);
}

void NaiveRouter::Offer(uint32_t ci, uint32_t ai) {
  Contact& c = contacts_[ci];
  Agent& a = agents_[ai];
  StopWaiting(ci);
  c.state = State::kOffered;
  c.agent = ai;
  a.offer = ci;
  a.load[static_cast<int>(c.channel)]++;
  offers_.emplace_back(c.id, a.id);
}

bool NaiveRouter::CreateContact(const core::ContactRequest& r, core::Time now) {
  now_ = std::max(now_, Ns(now));
  auto q = queue_by_name_.find(r.queue);
  if (q == queue_by_name_.end() || contact_by_id_.contains(r.id) ||
      !((channels_[q->second] >> static_cast<int>(r.channel)) & 1u)) {
    return false;
  }
  uint32_t ci;
  if (!free_contacts_.empty()) {
    ci = free_contacts_.back();
    free_contacts_.pop_back();
  } else {
    ci = static_cast<uint32_t>(contacts_.size());
    contacts_.emplace_back();
  }
  Contact& c = contacts_[ci];
  c.id = r.id;
  c.queue = q->second;
  c.channel = r.channel;
  c.priority = r.priority;
  c.extra = InternAll(r.requirements);
  c.arrival = now_;
  c.seq = next_seq_++;
  c.declined.clear();
  contact_by_id_.emplace(c.id, ci);
  Wait(ci);
  Route(ci);
  return true;
}

int64_t NaiveRouter::FindOffered(std::string_view agent_id,
                                 std::string_view contact_id,
                                 State state) const {
  auto a = agent_by_id_.find(Key(agent_id));
  auto c = contact_by_id_.find(Key(contact_id));
  if (a == agent_by_id_.end() || c == contact_by_id_.end()) return -1;
  const Contact& contact = contacts_[c->second];
  if (contact.state != state || contact.agent != a->second) return -1;
  return c->second;
}

bool NaiveRouter::AcceptOffer(std::string_view agent_id,
                              std::string_view contact_id, core::Time now) {
  now_ = std::max(now_, Ns(now));
  int64_t ci = FindOffered(agent_id, contact_id, State::kOffered);
  if (ci < 0) return false;
  Contact& c = contacts_[ci];
  Agent& a = agents_[c.agent];
  a.offer = -1;
  a.idle_since = now_;
  c.state = State::kAssigned;
  for (const Decline& d : c.declined) {
    std::erase_if(agents_[d.who].declined, [&](const Decline& x) {
      return x.who == ci && x.seq == c.seq;
    });
  }
  c.declined.clear();
  Serve(c.agent);
  return true;
}

bool NaiveRouter::RejectOffer(std::string_view agent_id,
                              std::string_view contact_id, core::Time now) {
  now_ = std::max(now_, Ns(now));
  int64_t ci = FindOffered(agent_id, contact_id, State::kOffered);
  if (ci < 0) return false;
  Contact& c = contacts_[ci];
  uint32_t ai = c.agent;
  Agent& a = agents_[ai];
  if (policy_.reoffer_delay > core::Duration::zero()) {
    int64_t until = now_ + policy_.reoffer_delay.count();
    std::erase_if(c.declined, [&](const Decline& d) { return d.who == ai; });
    c.declined.push_back({ai, c.seq, until});
    std::erase_if(a.declined, [&](const Decline& d) {
      return d.until <= now_ || (d.who == ci && d.seq == c.seq);
    });
    a.declined.push_back({static_cast<uint32_t>(ci), c.seq, until});
  }
  a.offer = -1;
  a.load[static_cast<int>(c.channel)]--;
  Wait(ci);
  Route(ci);
  Serve(ai);
  return true;
}

bool NaiveRouter::CompleteContact(std::string_view agent_id,
                                  std::string_view contact_id, core::Time now) {
  now_ = std::max(now_, Ns(now));
  int64_t ci = FindOffered(agent_id, contact_id, State::kAssigned);
  if (ci < 0) return false;
  uint32_t ai = contacts_[ci].agent;
  Agent& a = agents_[ai];
  a.load[static_cast<int>(contacts_[ci].channel)]--;
  a.idle_since = now_;
  FreeContact(static_cast<uint32_t>(ci));
  Serve(ai);
  return true;
}

void NaiveRouter::FreeContact(uint32_t ci) {
  Contact& c = contacts_[ci];
  for (const Decline& d : c.declined) {
    std::erase_if(agents_[d.who].declined, [&](const Decline& x) {
      return x.who == ci && x.seq == c.seq;
    });
  }
  contact_by_id_.erase(c.id);
  free_contacts_.push_back(ci);
}

void NaiveRouter::TakeOffers(
    std::vector<std::pair<std::string, std::string>>& out) {
  for (auto& o : offers_) out.push_back(std::move(o));
  offers_.clear();
}

}  // namespace ccroute::bench
