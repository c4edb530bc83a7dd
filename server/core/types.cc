#include "server/core/types.h"

#include <array>

#include "server/core/events.h"

namespace ccroute::core {
namespace {

constexpr std::array<std::string_view, kChannelCount> kChannelNames = {
    "voice", "chat", "email", "callback", "task"};
constexpr std::array<std::string_view, kAgentSelectionCount>
    kAgentSelectionNames = {"longest_idle", "most_skilled", "least_occupied",
                            "preserve_coverage"};
constexpr std::array<std::string_view, 2> kContactSelectionNames = {
    "service_level", "fifo"};

template <typename Enum, size_t N>
std::optional<Enum> ParseName(const std::array<std::string_view, N>& names,
                              std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view ChannelName(Channel channel) {
  return kChannelNames[static_cast<size_t>(channel)];
}

std::optional<Channel> ParseChannel(std::string_view name) {
  return ParseName<Channel>(kChannelNames, name);
}

std::string_view ContactStateName(ContactState state) {
  switch (state) {
    case ContactState::kScheduled:
      return "scheduled";
    case ContactState::kQueued:
      return "queued";
    case ContactState::kOffered:
      return "offered";
    case ContactState::kAssigned:
      return "assigned";
    case ContactState::kWrapUp:
      return "wrap_up";
    case ContactState::kEnded:
      return "ended";
  }
  return "unknown";
}

std::string_view EndReasonName(EndReason reason) {
  switch (reason) {
    case EndReason::kNone:
      return "none";
    case EndReason::kCompleted:
      return "completed";
    case EndReason::kAbandoned:
      return "abandoned";
    case EndReason::kCancelled:
      return "cancelled";
    case EndReason::kExpired:
      return "expired";
    case EndReason::kQueueFull:
      return "queue_full";
  }
  return "unknown";
}

std::string_view AgentStateName(AgentState state) {
  switch (state) {
    case AgentState::kOffline:
      return "offline";
    case AgentState::kNotReady:
      return "not_ready";
    case AgentState::kReady:
      return "ready";
  }
  return "unknown";
}

std::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kContactQueued:
      return "contact_queued";
    case EventKind::kContactScheduled:
      return "contact_scheduled";
    case EventKind::kContactEscalated:
      return "contact_escalated";
    case EventKind::kContactOverflowed:
      return "contact_overflowed";
    case EventKind::kContactUpdated:
      return "contact_updated";
    case EventKind::kContactOffered:
      return "contact_offered";
    case EventKind::kContactAssigned:
      return "contact_assigned";
    case EventKind::kOfferRejected:
      return "offer_rejected";
    case EventKind::kOfferTimedOut:
      return "offer_timed_out";
    case EventKind::kOfferRescinded:
      return "offer_rescinded";
    case EventKind::kContactWrapUp:
      return "contact_wrap_up";
    case EventKind::kContactTransferred:
      return "contact_transferred";
    case EventKind::kContactEnded:
      return "contact_ended";
    case EventKind::kAgentStateChanged:
      return "agent_state_changed";
    case EventKind::kAgentWrapUpEnded:
      return "agent_wrap_up_ended";
  }
  return "unknown";
}

std::string_view AgentSelectionName(AgentSelection selection) {
  return kAgentSelectionNames[static_cast<size_t>(selection)];
}

std::optional<AgentSelection> ParseAgentSelection(std::string_view name) {
  return ParseName<AgentSelection>(kAgentSelectionNames, name);
}

std::string_view ContactSelectionName(ContactSelection selection) {
  return kContactSelectionNames[static_cast<size_t>(selection)];
}

std::optional<ContactSelection> ParseContactSelection(std::string_view name) {
  return ParseName<ContactSelection>(kContactSelectionNames, name);
}

}  // namespace ccroute::core
