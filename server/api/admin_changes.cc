#include "server/api/admin_changes.h"

#include <google/protobuf/util/message_differencer.h>

#include <memory>
#include <string>
#include <utility>

#include "server/api/convert.h"

namespace ccroute::api {
namespace {

using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

constexpr std::string_view kQueuePrefix = "queue/";
constexpr std::string_view kAgentPrefix = "agent/";

// "queue 'vip'", "agent 'bob'", "the routing policy": the item in words.
std::string Describe(std::string_view key) {
  if (key.starts_with(kQueuePrefix)) {
    return "queue '" + std::string(key.substr(kQueuePrefix.size())) + "'";
  }
  if (key.starts_with(kAgentPrefix)) {
    return "agent '" + std::string(key.substr(kAgentPrefix.size())) + "'";
  }
  if (key == kRoutingPolicyKey) return "the routing policy";
  return "'" + std::string(key) + "'";
}

// `bytes` decoded as `Proto`, in the engine's form (FromProto).
template <typename Proto>
auto FromBytes(const std::string& bytes)
    -> decltype(FromProto(std::declval<const Proto&>())) {
  Proto proto;
  if (!proto.ParseFromString(bytes)) {
    return absl::DataLossError("its record does not decode");
  }
  return FromProto(proto);
}

// `bytes` decoded as `Proto` and passed through the engine's form; null if
// it does not decode or FromProto refuses it.
template <typename Proto>
std::unique_ptr<Message> RoundTrip(const std::string& bytes) {
  auto item = FromBytes<Proto>(bytes);
  if (!item.ok()) return nullptr;
  return std::make_unique<Proto>(ToProto(*item));
}

// The item `key` recorded as `bytes`, as this version spells it: a field a
// record from an earlier version lacks takes its default, as in the file's
// items (FileConfig), so that an upgrade alone changes no comparison. Null
// if it does not decode.
std::unique_ptr<Message> Canonical(std::string_view key,
                                   const std::string& bytes) {
  if (key.starts_with(kQueuePrefix)) return RoundTrip<v1::Queue>(bytes);
  if (key.starts_with(kAgentPrefix)) return RoundTrip<v1::AgentProfile>(bytes);
  if (key == kRoutingPolicyKey) return RoundTrip<v1::RoutingPolicy>(bytes);
  return nullptr;
}

// Whether `file` has the item `key` as a record says: as `bytes`, or
// absent when `present` is false.
bool FileHas(const FileConfig& file, std::string_view key, bool present,
             const std::string& bytes) {
  const Message* now = file.Find(key);
  if (now == nullptr || !present) return now == nullptr && !present;
  std::unique_ptr<Message> recorded = Canonical(key, bytes);
  return recorded != nullptr && MessageDifferencer::Equals(*recorded, *now);
}

// Whether the file has the item `change.key()` as it had when the change
// was made.
bool FileUnchanged(const journal::ConfigChange& change,
                   const FileConfig& file) {
  return FileHas(file, change.key(), change.file_had(), change.file_value());
}

// Whether the file now has the item `change.key()` as the change left it:
// the file has taken the change in.
bool FileAdopted(const journal::ConfigChange& change, const FileConfig& file) {
  return FileHas(file, change.key(), !change.deleted(), change.value());
}

// Applies one change to the engine.
absl::Status Apply(const journal::ConfigChange& change, core::Engine& engine,
                   core::Time now) {
  std::string_view key = change.key();
  if (key.starts_with(kQueuePrefix)) {
    std::string_view name = key.substr(kQueuePrefix.size());
    if (change.deleted()) {
      absl::Status s = engine.DeleteQueue(name, now);
      return absl::IsNotFound(s) ? absl::OkStatus() : s;
    }
    auto queue = FromBytes<v1::Queue>(change.value());
    if (!queue.ok()) return queue.status();
    if (queue->name != name) return absl::DataLossError("its name differs");
    return engine.UpsertQueue(*queue, now);
  }
  if (key.starts_with(kAgentPrefix)) {
    std::string_view id = key.substr(kAgentPrefix.size());
    if (change.deleted()) {
      absl::Status s = engine.DeleteAgentProfile(id, now);
      return absl::IsNotFound(s) ? absl::OkStatus() : s;
    }
    auto agent = FromBytes<v1::AgentProfile>(change.value());
    if (!agent.ok()) return agent.status();
    if (agent->id != id) return absl::DataLossError("its id differs");
    return engine.UpsertAgentProfile(*agent, now);
  }
  if (key == kRoutingPolicyKey) {
    if (change.deleted()) {
      return absl::DataLossError("its record deletes the routing policy");
    }
    auto policy = FromBytes<v1::RoutingPolicy>(change.value());
    if (!policy.ok()) return policy.status();
    return engine.SetRoutingPolicy(*policy, now);
  }
  return absl::DataLossError("its key is unknown");
}

}  // namespace

std::string QueueKey(std::string_view name) {
  return std::string(kQueuePrefix) + std::string(name);
}

std::string AgentKey(std::string_view id) {
  return std::string(kAgentPrefix) + std::string(id);
}

FileConfig::FileConfig(const ResolvedConfig& config) {
  for (const core::QueueConfig& q : config.queues) {
    items_[QueueKey(q.name)] = std::make_unique<v1::Queue>(ToProto(q));
  }
  for (const core::AgentProfile& a : config.agents) {
    items_[AgentKey(a.id)] = std::make_unique<v1::AgentProfile>(ToProto(a));
  }
  items_[std::string(kRoutingPolicyKey)] =
      std::make_unique<v1::RoutingPolicy>(ToProto(config.routing));
}

const Message* FileConfig::Find(std::string_view key) const {
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second.get();
}

journal::Batch RecordChange(const FileConfig& file, std::string key,
                            const Message* value) {
  journal::Batch batch;
  const Message* in_file = file.Find(key);
  bool as_in_file =
      value == nullptr
          ? in_file == nullptr
          : in_file != nullptr && MessageDifferencer::Equals(*value, *in_file);
  if (as_in_file) {
    batch.EraseConfig(std::move(key));
    return batch;
  }
  journal::ConfigChange change;
  change.set_key(std::move(key));
  change.set_deleted(value == nullptr);
  if (value != nullptr) change.set_value(value->SerializeAsString());
  change.set_file_had(in_file != nullptr);
  if (in_file != nullptr) change.set_file_value(in_file->SerializeAsString());
  batch.PutConfig(std::move(change));
  return batch;
}

AdminChangesReplay ReplayAdminChanges(
    const std::vector<journal::ConfigChange>& changes, const FileConfig& file,
    core::Engine& engine, core::Time now) {
  AdminChangesReplay out;
  std::vector<const journal::ConfigChange*> pending;
  for (const journal::ConfigChange& change : changes) {
    if (FileAdopted(change, file)) {
      out.adopted++;
      out.cleanup.EraseConfig(change.key());
      continue;
    }
    if (FileUnchanged(change, file)) {
      pending.push_back(&change);
      continue;
    }
    out.superseded++;
    out.problems.push_back("an administrator's change to " +
                           Describe(change.key()) +
                           " was not applied: the configuration file has "
                           "changed it since, and the file wins");
    out.cleanup.EraseConfig(change.key());
  }
  // In the order they were made; again while some apply, for changes that
  // need room a later one makes (skill names freed by a deletion).
  std::vector<absl::Status> refusals(pending.size());
  bool progress = true;
  while (progress) {
    progress = false;
    std::vector<const journal::ConfigChange*> left;
    std::vector<absl::Status> left_refusals;
    for (const journal::ConfigChange* change : pending) {
      absl::Status s = Apply(*change, engine, now);
      if (s.ok()) {
        out.applied++;
        progress = true;
        continue;
      }
      left.push_back(change);
      left_refusals.push_back(std::move(s));
    }
    pending = std::move(left);
    refusals = std::move(left_refusals);
  }
  for (size_t i = 0; i < pending.size(); ++i) {
    out.failed++;
    out.problems.push_back(
        "an administrator's change to " + Describe(pending[i]->key()) +
        " was not applied: " + std::string(refusals[i].message()));
    out.cleanup.EraseConfig(pending[i]->key());
  }
  return out;
}

}  // namespace ccroute::api
