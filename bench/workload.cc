#include "bench/workload.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace ccroute::bench {
namespace {

using namespace std::chrono_literals;
using core::Channel;

constexpr int kLanguages = 4;
// What a contact that asks for a language asks for.
constexpr int kLanguageLevel = 5;
// Nobody speaks it: contacts that ask for it wait whatever happens.
constexpr char kUnspokenLanguage[] = "lang.none";

std::string ProductSkill(int i) { return absl::StrCat("skill.", i); }
std::string Language(int i) { return absl::StrCat("lang.", i); }

uint32_t Bit(Channel c) { return 1u << static_cast<int>(c); }

int Uniform(std::mt19937_64& rng, int lo, int hi) {
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

}  // namespace

std::optional<Scale> ScaleByName(std::string_view name) {
  if (name == "S") return Scale{"S", 100, 10, 1'000};
  if (name == "M") return Scale{"M", 1'000, 100, 10'000};
  if (name == "L") return Scale{"L", 10'000, 500, 100'000};
  return std::nullopt;
}

Workload::Workload(const Scale& scale, uint64_t seed) : scale_(scale) {
  std::mt19937_64 rng(seed);
  // One product skill per queue, and at least 15 so that an agent can hold
  // 13 distinct ones: an agent then serves about 5 queues at any scale,
  // as agents do in real centers, and each queue has agents.
  const int products = std::max(15, scale.queues);
  constexpr std::array<core::Duration, 5> kTargets = {20s, 30s, 60s, 120s,
                                                      300s};

  for (int i = 0; i < scale.queues; ++i) {
    core::QueueConfig q;
    q.name = absl::StrCat("q", i);
    int kind = Uniform(rng, 0, 3);
    q.channels = kind <= 1   ? Bit(Channel::kVoice) | Bit(Channel::kChat)
                 : kind == 2 ? Bit(Channel::kVoice)
                             : Bit(Channel::kChat) | Bit(Channel::kEmail);
    q.service_level_target = kTargets[Uniform(rng, 0, kTargets.size() - 1)];
    q.requirements.push_back({ProductSkill(i % products), Uniform(rng, 1, 4)});
    if (Uniform(rng, 0, 9) < 3) {
      q.requirements.push_back(
          {Language(Uniform(rng, 0, kLanguages - 1)), Uniform(rng, 2, 4)});
    }
    q.offer_timeout = 24h;
    queues_.push_back(std::move(q));
  }

  for (int i = 0; i < scale.agents; ++i) {
    core::AgentProfile a;
    a.id = AgentId(i);
    int total = Uniform(rng, 3, 15);
    int languages = Uniform(rng, 1, 2);
    std::vector<int> langs(kLanguages), skills(products);
    for (int k = 0; k < kLanguages; ++k) langs[k] = k;
    for (int k = 0; k < products; ++k) skills[k] = k;
    std::shuffle(langs.begin(), langs.end(), rng);
    for (int k = 0; k < languages; ++k) {
      a.skills.push_back({Language(langs[k]), Uniform(rng, 1, 10)});
    }
    // A partial shuffle picks distinct product skills.
    for (int k = 0; k < total - languages; ++k) {
      std::swap(skills[k], skills[Uniform(rng, k, products - 1)]);
      a.skills.push_back({ProductSkill(skills[k]), Uniform(rng, 1, 10)});
    }
    a.capacity = {};
    a.capacity[static_cast<int>(Channel::kVoice)] = Uniform(rng, 0, 9) < 9;
    a.capacity[static_cast<int>(Channel::kChat)] =
        Uniform(rng, 0, 9) < 6 ? Uniform(rng, 2, 3) : 0;
    a.capacity[static_cast<int>(Channel::kEmail)] =
        Uniform(rng, 0, 9) < 4 ? 2 : 0;
    if (a.capacity == std::array<int, core::kChannelCount>{}) {
      a.capacity[static_cast<int>(Channel::kVoice)] = 1;
    }
    a.voice_blocks_other_channels = true;
    agents_.push_back(std::move(a));
  }

  // Voice 6, chat 3, email 1, times the agents who qualify for the queue
  // and take the channel.
  constexpr std::array<double, core::kChannelCount> kChannelWeight = {6, 3, 1,
                                                                      0, 0};
  std::vector<absl::flat_hash_map<std::string, int>> levels(agents_.size());
  for (size_t k = 0; k < agents_.size(); ++k) {
    for (const core::Skill& s : agents_[k].skills) levels[k][s.name] = s.level;
  }
  std::vector<double> weights;
  for (int i = 0; i < scale.queues; ++i) {
    const core::QueueConfig& q = queues_[i];
    for (int c = 0; c < core::kChannelCount; ++c) {
      Channel ch = static_cast<Channel>(c);
      if (!q.TakesChannel(ch) || kChannelWeight[c] == 0) continue;
      int staff = 0;
      std::vector<int> speakers(kLanguages);
      for (size_t k = 0; k < agents_.size(); ++k) {
        if (agents_[k].capacity[c] == 0) continue;
        bool ok = true;
        for (const core::SkillRequirement& r : q.requirements) {
          auto it = levels[k].find(r.skill);
          ok &= it != levels[k].end() && it->second >= r.min_level;
        }
        if (!ok) continue;
        staff++;
        for (int l = 0; l < kLanguages; ++l) {
          auto it = levels[k].find(Language(l));
          speakers[l] += it != levels[k].end() && it->second >= kLanguageLevel;
        }
      }
      Destination d{i, ch, {}};
      for (int l = 0; l < kLanguages; ++l) {
        if (speakers[l] > 0) d.languages.push_back(l);
      }
      destinations_.push_back(std::move(d));
      weights.push_back(kChannelWeight[c] * staff);
    }
  }
  if (std::all_of(weights.begin(), weights.end(),
                  [](double w) { return w == 0; })) {
    weights.assign(weights.size(), 1);
  }
  pick_destination_ =
      std::discrete_distribution<int>(weights.begin(), weights.end());
}

core::RoutingPolicy Workload::policy() const {
  core::RoutingPolicy p;
  p.reoffer_delay = 24h;
  return p;
}

void Workload::NextContact(std::mt19937_64& rng, int64_t number,
                           core::ContactRequest& out) const {
  const Destination& d = destinations_[pick_destination_(rng)];
  out.id = ContactId(number);
  out.queue = queues_[d.queue].name;
  out.channel = d.channel;
  int p = Uniform(rng, 0, 99);
  out.priority = p < 85 ? 0 : p < 95 ? 1 : 5;
  out.requirements.clear();
  // Only languages someone there speaks well enough: a contact no agent
  // can ever take would only pile up.
  if (Uniform(rng, 0, 9) == 0 && !d.languages.empty()) {
    int l = d.languages[Uniform(rng, 0, d.languages.size() - 1)];
    out.requirements.push_back({Language(l), kLanguageLevel});
  }
}

void Workload::BacklogContact(std::mt19937_64& rng, int64_t number,
                              core::ContactRequest& out) const {
  NextContact(rng, number, out);
  out.requirements.clear();
  out.requirements.push_back({kUnspokenLanguage, 1});
}

std::string Workload::ContactId(int64_t number) {
  return absl::StrCat("c", number);
}

std::string Workload::AgentId(int number) { return absl::StrCat("a", number); }

int64_t Workload::ParseNumber(std::string_view id) {
  if (id.size() < 2) return -1;
  int64_t n = -1;
  auto [ptr, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), n);
  if (ec != std::errc() || ptr != id.data() + id.size()) return -1;
  return n;
}

}  // namespace ccroute::bench
