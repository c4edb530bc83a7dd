// Conversions between the API's protobuf messages and the routing core's
// values. Functions that read requests validate what only the wire format
// can get wrong (enum values, duration ranges, names of policies) and answer
// INVALID_ARGUMENT naming the field; the core validates the rest.
// Stateless; thread-safe.
#ifndef CCROUTE_SERVER_API_CONVERT_H_
#define CCROUTE_SERVER_API_CONVERT_H_

#include <grpcpp/support/status.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ccroute/v1/admin.pb.h"
#include "ccroute/v1/agents.pb.h"
#include "ccroute/v1/common.pb.h"
#include "ccroute/v1/config.pb.h"
#include "ccroute/v1/contacts.pb.h"
#include "ccroute/v1/supervisor.pb.h"
#include "server/core/config.h"
#include "server/core/engine.h"
#include "server/core/events.h"

namespace ccroute::api {

// Maps engine time to wall-clock time and back (engine time is the steady
// clock). Thread-safe once constructed.
class TimeMapper {
 public:
  // `engine_now` and `wall_now` are the same instant on both clocks.
  TimeMapper(core::Time engine_now,
             std::chrono::system_clock::time_point wall_now)
      : offset_(wall_now.time_since_epoch() -
                std::chrono::duration_cast<std::chrono::system_clock::duration>(
                    engine_now.time_since_epoch())) {}
  std::chrono::system_clock::time_point ToWall(core::Time t) const {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            t.time_since_epoch()) +
        offset_);
  }
  core::Time FromWall(std::chrono::system_clock::time_point t) const {
    return core::Time(std::chrono::duration_cast<core::Duration>(
        t.time_since_epoch() - offset_));
  }

 private:
  std::chrono::system_clock::duration offset_;
};

// Status mapping: the canonical codes are the same on both sides.
grpc::Status ToGrpc(const absl::Status& status);

// --- Enums and names --------------------------------------------------------
// CHANNEL_UNSPECIFIED reads as voice; out-of-range values are
// INVALID_ARGUMENT naming `field`.
absl::StatusOr<core::Channel> FromProto(v1::Channel channel,
                                        std::string_view field);
v1::Channel ToProto(core::Channel channel);
v1::ContactState ToProto(core::ContactState state);
v1::EndReason ToProto(core::EndReason reason);
v1::AgentState ToProto(core::AgentState state);
// Event kinds as lower-case names ("contact_offered", ...), as
// core::EventKindName. Call it qualified (api::EventKindName): argument-
// dependent lookup also finds the core one, and an unqualified call is
// ambiguous.
std::string EventKindName(core::EventKind kind);
// The kind named by EventKindName(kind); nullopt for any other name.
std::optional<core::EventKind> ParseEventKind(std::string_view name);

// --- Durations and times -----------------------------------------------------
// Saturates at the limits of core::Duration (about +-292 years).
core::Duration FromProto(const google::protobuf::Duration& d);
// Checked: INVALID_ARGUMENT naming `field` if `d` is malformed (nanos out of
// range or of the other sign) or does not fit in a core::Duration. Negative
// values pass: the core validators name them where they make no sense.
absl::StatusOr<core::Duration> FromProto(const google::protobuf::Duration& d,
                                         std::string_view field);
void ToProto(core::Duration d, google::protobuf::Duration* out);
// Writes `t` as wall-clock time, whatever its value (callers skip Time{}).
void ToProto(core::Time t, const TimeMapper& clock,
             google::protobuf::Timestamp* out);
// The engine time of wall-clock `t`; INVALID_ARGUMENT naming `field` if the
// nanos are out of range or the time does not fit in a core::Time (about
// 1678..2262).
absl::StatusOr<core::Time> FromProto(const google::protobuf::Timestamp& t,
                                     const TimeMapper& clock,
                                     std::string_view field);

// --- Configuration --------------------------------------------------------
// Unset fields take the defaults documented in admin.proto, and a zero
// scalar reads as unset: service_level_goal 0 is 0.8, a skill level or
// min_level 0 is 1. Queue.channels empty is every channel (and
// CHANNEL_UNSPECIFIED in the list is an error). A present
// AgentProfile.capacity replaces the default whole: {chat: 3} is chat 3 and
// voice 0. Errors name the field as the core validators do ("queue.x",
// "agent.x", "routing.x"). The ToProto functions set every field, so that
// FromProto(ToProto(x)) == x.
absl::StatusOr<core::QueueConfig> FromProto(const v1::Queue& queue);
v1::Queue ToProto(const core::QueueConfig& queue);
absl::StatusOr<core::AgentProfile> FromProto(const v1::AgentProfile& agent);
v1::AgentProfile ToProto(const core::AgentProfile& agent);
absl::StatusOr<core::RoutingPolicy> FromProto(const v1::RoutingPolicy& policy);
v1::RoutingPolicy ToProto(const core::RoutingPolicy& policy);

// --- Contacts ---------------------------------------------------------------
// INVALID_ARGUMENT naming "contact.channel", "contact.preferred_wait" or
// "contact.not_before" for what the wire format gets wrong; the rest is
// left to core::ValidateContactRequest. Attributes come out sorted by key.
// A callback is CHANNEL_CALLBACK; without not_before it is due at once.
absl::StatusOr<core::ContactRequest> FromProto(
    const v1::CreateContactRequest& request, const TimeMapper& clock);
absl::StatusOr<core::ContactRequest> FromProto(
    const v1::ScheduleCallbackRequest& request, const TimeMapper& clock);
// Times equal to core::Time{} and an absent estimated wait stay unset.
void ToProto(const core::ContactView& contact, const TimeMapper& clock,
             v1::Contact* out);

// --- Statistics and events -------------------------------------------------
// Optional statistics without data stay unset.
void ToProto(const core::QueueStats& stats, v1::QueueStats* out);
// `load` holds only channels with load > 0, keyed by channel name;
// `connected` is left false for the caller to fill.
void ToProto(const core::AgentStats& stats, v1::AgentStats* out);
// `wait` is set only for contact_assigned and contact_ended, `agent_state`
// only for agent_state_changed (and `channel` for every other kind).
void ToProto(const core::Event& event, const TimeMapper& clock, v1::Event* out);

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_CONVERT_H_
