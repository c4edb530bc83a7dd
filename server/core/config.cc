#include "server/core/config.h"

#include <algorithm>
#include <set>

#include "server/core/detail/strings.h"

namespace ccroute::core {
namespace {

using detail::Cat;

constexpr size_t kMaxSkillNameBytes = 64;
constexpr int kMaxCapacity = 100;

absl::Status Invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(Cat(field, ": ", problem));
}

// Ids are opaque to the engine but end up in logs and events: printable
// ASCII without spaces keeps them safe to print.
absl::Status CheckId(std::string_view field, std::string_view id,
                     size_t max_bytes) {
  if (id.empty()) return Invalid(field, "is required");
  if (id.size() > max_bytes) {
    return Invalid(field, Cat("is longer than ", max_bytes, " bytes"));
  }
  for (char c : id) {
    if (c <= ' ' || c > '~') {
      return Invalid(field,
                     "may hold only printable ASCII characters without spaces");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSkillName(std::string_view field, std::string_view name) {
  if (name.empty()) return Invalid(field, "skill name is required");
  if (name.size() > kMaxSkillNameBytes) {
    return Invalid(
        field, Cat("skill name is longer than ", kMaxSkillNameBytes, " bytes"));
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) {
      return Invalid(field, Cat("skill name '", name,
                                "' may hold only letters, digits, "
                                "'_', '-' and '.'"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckLevel(std::string_view field, int level) {
  if (level < kMinSkillLevel || level > kMaxSkillLevel) {
    return Invalid(field, Cat("level ", level, " is not in ", kMinSkillLevel,
                              "..", kMaxSkillLevel));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRequirements(const std::vector<SkillRequirement>& reqs,
                                  std::string_view field,
                                  const EngineLimits& limits) {
  if (static_cast<int>(reqs.size()) > limits.max_contact_requirements) {
    return Invalid(field, Cat("more than ", limits.max_contact_requirements,
                              " requirements"));
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < reqs.size(); ++i) {
    std::string f = Cat(field, "[", i, "]");
    if (auto s = CheckSkillName(f, reqs[i].skill); !s.ok()) return s;
    if (auto s = CheckLevel(f, reqs[i].min_level); !s.ok()) return s;
    if (!seen.insert(reqs[i].skill).second) {
      return Invalid(f, Cat("skill '", reqs[i].skill, "' is required twice"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateQueueConfig(const QueueConfig& q,
                                 const EngineLimits& limits) {
  if (auto s = CheckId("queue.name", q.name, limits.max_id_bytes); !s.ok()) {
    return s;
  }
  if (q.channels == 0 || q.channels >= (1u << kChannelCount)) {
    return Invalid("queue.channels", "must name at least one known channel");
  }
  if (q.service_level_target <= Duration::zero()) {
    return Invalid("queue.service_level_target", "must be positive");
  }
  if (!(q.service_level_goal > 0 && q.service_level_goal <= 1)) {
    return Invalid("queue.service_level_goal", "must be in (0, 1]");
  }
  if (auto s =
          ValidateRequirements(q.requirements, "queue.requirements", limits);
      !s.ok()) {
    return s;
  }
  Duration previous{0};
  for (size_t i = 0; i < q.escalation.size(); ++i) {
    const EscalationStep& step = q.escalation[i];
    std::string f = Cat("queue.escalation[", i, "]");
    if (step.after <= previous) {
      return Invalid(f,
                     "'after' must be positive and later than the "
                     "previous step's");
    }
    previous = step.after;
    if (auto s = ValidateRequirements(step.requirements,
                                      Cat(f, ".requirements"), limits);
        !s.ok()) {
      return s;
    }
  }
  if (q.max_waiting < 0) return Invalid("queue.max_waiting", "is negative");
  if (q.max_wait < Duration::zero()) {
    return Invalid("queue.max_wait", "is negative");
  }
  if (!q.overflow_queue.empty()) {
    if (auto s = CheckId("queue.overflow_queue", q.overflow_queue,
                         limits.max_id_bytes);
        !s.ok()) {
      return s;
    }
    if (q.overflow_queue == q.name) {
      return Invalid("queue.overflow_queue", "names the queue itself");
    }
  }
  if (!q.max_wait_queue.empty()) {
    if (auto s = CheckId("queue.max_wait_queue", q.max_wait_queue,
                         limits.max_id_bytes);
        !s.ok()) {
      return s;
    }
    if (q.max_wait_queue == q.name) {
      return Invalid("queue.max_wait_queue", "names the queue itself");
    }
    if (q.max_wait == Duration::zero()) {
      return Invalid("queue.max_wait_queue", "is set but max_wait is not");
    }
  }
  if (q.offer_timeout <= Duration::zero()) {
    return Invalid("queue.offer_timeout", "must be positive");
  }
  if (q.last_agent_window < Duration::zero()) {
    return Invalid("queue.last_agent_window", "is negative");
  }
  if (q.default_handle_time <= Duration::zero()) {
    return Invalid("queue.default_handle_time", "must be positive");
  }
  return absl::OkStatus();
}

absl::Status ValidateAgentProfile(const AgentProfile& a,
                                  const EngineLimits& limits) {
  if (auto s = CheckId("agent.id", a.id, limits.max_id_bytes); !s.ok()) {
    return s;
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < a.skills.size(); ++i) {
    std::string f = Cat("agent.skills[", i, "]");
    if (auto s = CheckSkillName(f, a.skills[i].name); !s.ok()) return s;
    if (auto s = CheckLevel(f, a.skills[i].level); !s.ok()) return s;
    if (!seen.insert(a.skills[i].name).second) {
      return Invalid(f, Cat("skill '", a.skills[i].name, "' is listed twice"));
    }
  }
  bool any = false;
  for (int c = 0; c < kChannelCount; ++c) {
    std::string_view name = ChannelName(static_cast<Channel>(c));
    if (a.capacity[c] < 0 || a.capacity[c] > kMaxCapacity) {
      return Invalid(Cat("agent.capacity.", name),
                     Cat("must be in 0..", kMaxCapacity));
    }
    any = any || a.capacity[c] > 0;
    if (a.wrap_up[c] < Duration::zero()) {
      return Invalid(Cat("agent.wrap_up.", name), "is negative");
    }
  }
  if (!any) return Invalid("agent.capacity", "is 0 on every channel");
  return absl::OkStatus();
}

absl::Status ValidateRoutingPolicy(const RoutingPolicy& p) {
  if (p.max_missed_offers < 0) {
    return Invalid("routing.max_missed_offers", "is negative");
  }
  if (p.reoffer_delay < Duration::zero()) {
    return Invalid("routing.reoffer_delay", "is negative");
  }
  return absl::OkStatus();
}

absl::Status ValidateContactRequest(const ContactRequest& r,
                                    const EngineLimits& limits) {
  if (auto s = CheckId("contact.id", r.id, limits.max_id_bytes); !s.ok()) {
    return s;
  }
  if (auto s = CheckId("contact.queue", r.queue, limits.max_id_bytes);
      !s.ok()) {
    return s;
  }
  if (static_cast<int>(r.channel) >= kChannelCount) {
    return Invalid("contact.channel", "is not a known channel");
  }
  if (r.priority < 0 || r.priority > limits.max_priority) {
    return Invalid("contact.priority",
                   Cat(r.priority, " is not in 0..", limits.max_priority));
  }
  if (auto s =
          ValidateRequirements(r.requirements, "contact.requirements", limits);
      !s.ok()) {
    return s;
  }
  if (!r.customer_id.empty()) {
    if (auto s =
            CheckId("contact.customer_id", r.customer_id, limits.max_id_bytes);
        !s.ok()) {
      return s;
    }
  }
  if (!r.gateway.empty()) {
    if (auto s = CheckId("contact.gateway_id", r.gateway, limits.max_id_bytes);
        !s.ok()) {
      return s;
    }
  }
  if (r.preferred_wait < Duration::zero()) {
    return Invalid("contact.preferred_wait", "is negative");
  }
  if (!r.preferred_agent.empty()) {
    if (auto s = CheckId("contact.preferred_agent", r.preferred_agent,
                         limits.max_id_bytes);
        !s.ok()) {
      return s;
    }
    if (r.preferred_wait == Duration::zero()) {
      return Invalid("contact.preferred_wait",
                     "must be positive when a preferred agent is named");
    }
  } else if (r.preferred_wait > Duration::zero()) {
    return Invalid("contact.preferred_wait",
                   "is set but no preferred agent is named");
  }
  if (static_cast<int>(r.attributes.size()) > limits.max_attributes) {
    return Invalid("contact.attributes",
                   Cat(r.attributes.size(), " attributes, more than ",
                       limits.max_attributes));
  }
  std::set<std::string_view> keys;
  for (size_t i = 0; i < r.attributes.size(); ++i) {
    const auto& [key, value] = r.attributes[i];
    std::string f = Cat("contact.attributes[", i, "]");
    if (key.empty()) return Invalid(f, "key is empty");
    if (key.size() > limits.max_attribute_key_bytes) {
      return Invalid(f, Cat("key is longer than ",
                            limits.max_attribute_key_bytes, " bytes"));
    }
    if (value.size() > limits.max_attribute_value_bytes) {
      // The value is never echoed: it may hold personal data.
      return Invalid(Cat("contact.attributes['", key, "']"),
                     Cat("value is longer than ",
                         limits.max_attribute_value_bytes, " bytes"));
    }
    if (!keys.insert(key).second) {
      return Invalid(f, Cat("key '", key, "' appears twice"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ccroute::core
