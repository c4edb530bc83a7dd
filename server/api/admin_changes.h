// Administrators' changes to the configuration (Admin.UpsertQueue,
// DeleteQueue, UpsertAgentProfile, DeleteAgentProfile, SetRoutingPolicy),
// kept in the journal so that a restart keeps them.
//
// The configuration file stays the base: at every start the server applies
// it, then the administrators' changes on top. The journal keeps one record
// per item (queue, agent profile, the routing policy) changed over the API:
// its latest value, or its deletion, together with the item as the file the
// server was running on had it. A restart on a file that has the item
// otherwise (edited, added or removed since) lets the file win for that
// item; an item changed back to what the file has needs no record, and a
// record whose change the file has since taken in is dropped quietly.
//
// QueueKey, AgentKey, FileConfig and RecordChange are thread-safe (FileConfig
// is immutable once built); ReplayAdminChanges runs on the engine thread.
#ifndef CCROUTE_SERVER_API_ADMIN_CHANGES_H_
#define CCROUTE_SERVER_API_ADMIN_CHANGES_H_

#include <google/protobuf/message.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/api/config_file.h"
#include "server/core/engine.h"
#include "server/journal/journal.h"

namespace ccroute::api {

// The journal's key of each item: "queue/<name>", "agent/<id>",
// "routing_policy".
std::string QueueKey(std::string_view name);
std::string AgentKey(std::string_view id);
inline constexpr std::string_view kRoutingPolicyKey = "routing_policy";

// The file's queues, agent profiles and routing policy by key, as the API
// spells them (ToProto of each).
class FileConfig {
 public:
  explicit FileConfig(const ResolvedConfig& config);
  // Null when the file has no such item.
  const google::protobuf::Message* Find(std::string_view key) const;

 private:
  std::map<std::string, std::unique_ptr<google::protobuf::Message>, std::less<>>
      items_;
};

// What the journal should keep after the item `key` became `value` (null:
// deleted): its ConfigChange, or the erasure of its record when it is again
// as `file` has it.
journal::Batch RecordChange(const FileConfig& file, std::string key,
                            const google::protobuf::Message* value);

struct AdminChangesReplay {
  int64_t applied = 0;
  // Not applied, not needed: the file has since taken the change in (the
  // item is now in the file as the change left it). Its record goes.
  int64_t adopted = 0;
  // Not applied: the file has the item otherwise than when the change was
  // made, and wins.
  int64_t superseded = 0;
  // Not applied: the engine refuses the change on this configuration (it
  // names a queue no longer there, say), or the record does not decode.
  int64_t failed = 0;
  // Each change not applied, in words for the log.
  std::vector<std::string> problems;
  // Erases the records of the changes not applied.
  journal::Batch cleanup;
};

// Applies `changes` (RecoveredState::config, in the order they were made)
// to `engine`, which holds `file`'s configuration and no contacts yet. A
// change refused for a limit that a later one makes room for (distinct
// skill names freed by deleting an agent) is retried until nothing more
// applies. Engine thread only.
AdminChangesReplay ReplayAdminChanges(
    const std::vector<journal::ConfigChange>& changes, const FileConfig& file,
    core::Engine& engine, core::Time now);

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_ADMIN_CHANGES_H_
