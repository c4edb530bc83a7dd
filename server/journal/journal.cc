#include "server/journal/journal.h"

#include <utility>

namespace ccroute::journal {

std::string_view DurabilityName(Durability durability) {
  switch (durability) {
    case Durability::kSync:
      return "sync";
    case Durability::kInterval:
      return "interval";
    case Durability::kNone:
      return "none";
  }
  return "sync";
}

std::optional<Durability> ParseDurability(std::string_view name) {
  for (Durability d :
       {Durability::kSync, Durability::kInterval, Durability::kNone}) {
    if (DurabilityName(d) == name) return d;
  }
  return std::nullopt;
}

void Batch::PutContact(Contact contact, ContactStatus status) {
  Op op{Op::Kind::kContact,
        contact.request().id(),
        std::move(contact),
        std::move(status),
        {},
        {}};
  ops_.push_back(std::move(op));
}

void Batch::PutStatus(std::string id, ContactStatus status) {
  ops_.push_back(
      {Op::Kind::kStatus, std::move(id), {}, std::move(status), {}, {}});
}

void Batch::EndContact(EndedContact ended) {
  std::string id = ended.id();
  ops_.push_back(
      {Op::Kind::kEnded, std::move(id), {}, {}, std::move(ended), {}});
}

void Batch::PutConfig(ConfigChange change) {
  std::string key = change.key();
  ops_.push_back(
      {Op::Kind::kConfig, std::move(key), {}, {}, {}, std::move(change)});
}

void Batch::EraseConfig(std::string key) {
  ops_.push_back({Op::Kind::kConfigErased, std::move(key), {}, {}, {}, {}});
}

void Batch::Append(Batch other) {
  if (ops_.empty()) {
    ops_ = std::move(other.ops_);
    return;
  }
  for (Op& op : other.ops_) ops_.push_back(std::move(op));
}

absl::StatusOr<RecoveredState> NullJournal::Recover(WallTime) {
  return RecoveredState{};
}

void NullJournal::Append(Batch, Done done) {
  appends_++;
  if (done) done(absl::OkStatus());
}

absl::Status NullJournal::Flush() { return absl::OkStatus(); }

absl::Status NullJournal::Compact(WallTime) { return absl::OkStatus(); }

JournalStats NullJournal::stats() const { return {appends_.load(), 0, 0}; }

}  // namespace ccroute::journal
