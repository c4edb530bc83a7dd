// Vocabulary of the routing engine: time, channels, skills and the states of
// contacts and agents. Plain values; safe to copy between threads.
#ifndef CCROUTE_SERVER_CORE_TYPES_H_
#define CCROUTE_SERVER_CORE_TYPES_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ccroute::core {

// The engine's notion of time. It has no now(): the caller passes the
// current time into every engine call (real time in the server, virtual time
// in the simulator and the tests).
struct EngineClock {
  using rep = int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<EngineClock>;
  static constexpr bool is_steady = true;
};
using Duration = std::chrono::nanoseconds;
using Time = EngineClock::time_point;

// Converts a duration to fractional seconds (for statistics and display).
inline double ToSeconds(Duration d) {
  return std::chrono::duration<double>(d).count();
}

// The media a contact arrives on. Agents have a capacity per channel.
enum class Channel : uint8_t { kVoice, kChat, kEmail, kCallback, kTask };
inline constexpr int kChannelCount = 5;

// Voice and callbacks occupy the agent's phone line; "voice blocks other
// channels" applies to both.
inline constexpr bool IsVoiceLike(Channel c) {
  return c == Channel::kVoice || c == Channel::kCallback;
}

// Lower-case name of a channel ("voice", "chat", ...).
std::string_view ChannelName(Channel channel);
// Parses a lower-case channel name; nullopt for anything else.
std::optional<Channel> ParseChannel(std::string_view name);

inline constexpr int kMinSkillLevel = 1;
inline constexpr int kMaxSkillLevel = 10;

// A skill an agent holds, at a level 1-10.
struct Skill {
  std::string name;
  int level = kMinSkillLevel;
  friend bool operator==(const Skill&, const Skill&) = default;
};

// A requirement on a contact or queue: the agent needs `skill >= min_level`.
struct SkillRequirement {
  std::string skill;
  int min_level = kMinSkillLevel;
  friend bool operator==(const SkillRequirement&,
                         const SkillRequirement&) = default;
};

// Life cycle of a contact. A scheduled callback waits in kScheduled until its
// not-before time; wrap-up happens at the agent after the conversation.
enum class ContactState : uint8_t {
  kScheduled,
  kQueued,
  kOffered,
  kAssigned,
  kWrapUp,
  kEnded,
};
std::string_view ContactStateName(ContactState state);

// Why a contact ended.
enum class EndReason : uint8_t {
  kNone,       // not ended
  kCompleted,  // handled by an agent (after wrap-up)
  kAbandoned,  // the caller hung up while waiting
  kCancelled,  // the gateway withdrew it (e.g. callback no longer wanted)
  kExpired,    // waited longer than the queue's maximum wait
  kQueueFull,  // never queued: the queue and its overflow were full
};
std::string_view EndReasonName(EndReason reason);

enum class AgentState : uint8_t { kOffline, kNotReady, kReady };
std::string_view AgentStateName(AgentState state);

// How a queue picks among several available, eligible agents.
enum class AgentSelection : uint8_t {
  kLongestIdle,    // the agent idle for the longest time
  kMostSkilled,    // highest level on the queue's primary skill, then idle
  kLeastOccupied,  // lowest load on the channel relative to capacity
  // The agent whose other skills are least needed right now: the one whose
  // other requirement classes keep the most available agents, then idle.
  kPreserveCoverage,
};
inline constexpr int kAgentSelectionCount = 4;
std::string_view AgentSelectionName(AgentSelection selection);
std::optional<AgentSelection> ParseAgentSelection(std::string_view name);

// How an agent with free capacity picks among waiting contacts. Both take
// higher priority first.
enum class ContactSelection : uint8_t {
  kServiceLevel,  // then service-level urgency (wait / queue target)
  kFifo,          // then the oldest arrival, across queues
};
std::string_view ContactSelectionName(ContactSelection selection);
std::optional<ContactSelection> ParseContactSelection(std::string_view name);

}  // namespace ccroute::core

#endif  // CCROUTE_SERVER_CORE_TYPES_H_
