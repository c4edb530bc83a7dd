// Configuration and request values the engine accepts: queues, agent
// profiles, the routing policy, limits, and contact creation requests.
// Plain values; safe to copy between threads. The engine validates every one
// of them and answers INVALID_ARGUMENT naming the bad field.
#ifndef CCROUTE_SERVER_CORE_CONFIG_H_
#define CCROUTE_SERVER_CORE_CONFIG_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "server/core/types.h"

namespace ccroute::core {

using namespace std::chrono_literals;

// After `after` in the queue, the queue's skill requirements become
// `requirements` (bullseye routing). The contact keeps its place: only the
// set of agents that may take it grows.
struct EscalationStep {
  Duration after{0};
  std::vector<SkillRequirement> requirements;
  // Also drops the contact's own extra requirements from this step on.
  bool drop_contact_requirements = false;
};

struct QueueConfig {
  std::string name;
  // Channels the queue takes; a bit per Channel. Default: all.
  uint32_t channels = (1u << kChannelCount) - 1;
  // Service level: answer within `service_level_target`, for
  // `service_level_goal` of the contacts.
  Duration service_level_target = 20s;
  double service_level_goal = 0.8;
  // Base requirements every agent taking a contact of this queue meets. The
  // first one is the queue's primary skill (for most_skilled selection).
  std::vector<SkillRequirement> requirements;
  // In ascending order of `after`.
  std::vector<EscalationStep> escalation;
  // Most contacts waiting (queued or offered); 0 is unlimited. Beyond it new
  // contacts go to `overflow_queue`, or are refused with RESOURCE_EXHAUSTED.
  int max_waiting = 0;
  std::string overflow_queue;
  // Longest wait in this queue; 0 is unlimited. Then the contact moves to
  // `max_wait_queue` keeping its arrival time, or ends as expired.
  Duration max_wait{0};
  std::string max_wait_queue;
  AgentSelection agent_selection = AgentSelection::kLongestIdle;
  // How long an agent has to accept an offer.
  Duration offer_timeout = 15s;
  // A returning customer waits this long for the agent who last handled
  // them; 0 turns last-agent routing off.
  Duration last_agent_window{0};
  // Handle time assumed for the estimated wait before any was measured.
  Duration default_handle_time = 180s;

  bool TakesChannel(Channel c) const {
    return (channels >> static_cast<int>(c)) & 1u;
  }
};

struct AgentProfile {
  std::string id;
  std::vector<Skill> skills;
  // Contacts of each channel the agent handles at once (0: none).
  std::array<int, kChannelCount> capacity{1, 0, 0, 0, 0};
  // While on a voice contact the agent gets nothing else, and a voice
  // contact is offered only to an agent with no other work.
  bool voice_blocks_other_channels = true;
  // Wrap-up (after-contact work) per channel; 0 ends the contact at once.
  std::array<Duration, kChannelCount> wrap_up{};
};

struct RoutingPolicy {
  ContactSelection contact_selection = ContactSelection::kServiceLevel;
  // After this many consecutive offers that timed out the agent goes
  // NOT_READY("missed offers"); 0 never.
  int max_missed_offers = 3;
  // An agent who rejected or missed an offer is not offered the same contact
  // again for this long (others are).
  Duration reoffer_delay = 30s;
};

struct EngineLimits {
  int max_attributes = 32;
  size_t max_attribute_key_bytes = 64;
  size_t max_attribute_value_bytes = 512;
  size_t max_id_bytes = 128;
  int max_contact_requirements = 8;
  int max_priority = 1000;
  size_t max_live_contacts = 2'000'000;
  // Distinct skill names in use: held by live agents, live queues (any
  // escalation step) and live contacts' own requirements. Names nothing
  // holds any more are freed when a new name would pass the limit.
  size_t max_skills = 10'000;
  // Distinct (queue, channel, requirements) combinations kept; empty ones
  // are swept when the limit is reached.
  size_t max_requirement_classes = 20'000;
  // Customers remembered for last-agent routing.
  size_t max_remembered_customers = 200'000;
  // How long an ended contact's id is remembered, so that a retried create
  // returns it instead of making a new one.
  Duration idempotency_retention = 10min;
  // At most this many ended contacts are remembered (oldest forgotten first).
  size_t max_remembered_ended = 1'000'000;
  // Rolling window for service level, answer delay and handle time.
  Duration stats_window = 15min;
  int stats_window_buckets = 30;
};

// A gateway's request to queue a contact.
struct ContactRequest {
  std::string id;  // the gateway's key: creation is idempotent on it
  std::string queue;
  Channel channel = Channel::kVoice;
  int priority = 0;                            // 0..max_priority, higher first
  std::vector<SkillRequirement> requirements;  // beyond the queue's
  std::string customer_id;
  std::string preferred_agent;  // wait for this agent first ...
  Duration preferred_wait{0};   // ... for this long
  std::vector<std::pair<std::string, std::string>> attributes;
  std::optional<Time> not_before;  // a scheduled callback
  // The gateway that owns the contact: Resync reconciles a gateway's
  // contacts, and a gateway kept apart sees only its own. Empty: none.
  std::string gateway;
  // For a contact that began waiting before it reached this server (a
  // gateway re-declaring it after a failover): it takes its place, and its
  // escalation steps and maximum wait run, from this time. A time after
  // `now` counts as now. Unset: now.
  std::optional<Time> arrived_at;
};

// Validation shared by the engine and the API edge. Each returns OK or
// INVALID_ARGUMENT with a message naming the field and the problem.
absl::Status ValidateQueueConfig(const QueueConfig& queue,
                                 const EngineLimits& limits);
absl::Status ValidateAgentProfile(const AgentProfile& agent,
                                  const EngineLimits& limits);
absl::Status ValidateRoutingPolicy(const RoutingPolicy& policy);
absl::Status ValidateContactRequest(const ContactRequest& request,
                                    const EngineLimits& limits);
absl::Status ValidateRequirements(const std::vector<SkillRequirement>& reqs,
                                  std::string_view field,
                                  const EngineLimits& limits);

}  // namespace ccroute::core

#endif  // CCROUTE_SERVER_CORE_CONFIG_H_
