#include "server/journal/journal_observer.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "server/journal/records.h"

namespace ccroute::journal {

JournalObserver::JournalObserver(Journal& journal,
                                 core::Duration idempotency_retention)
    : journal_(journal), retention_(idempotency_retention) {}

void JournalObserver::Created(const core::ContactRequest& request,
                              const core::ContactView& view, core::Time now,
                              Journal::Done done) {
  Batch batch;
  if (view.created) {
    ClockMap clock(now, std::chrono::system_clock::now());
    Contact contact;
    *contact.mutable_request() = ToRecord(request, clock);
    contact.set_created_unix_ns(clock.ToUnixNanos(view.created_at));
    batch.PutContact(std::move(contact), StatusOf(view, clock));
  }
  // An empty batch too: a retry is acknowledged only once the original,
  // appended before it, is as durable as the mode promises.
  journal_.Append(std::move(batch), std::move(done));
}

void JournalObserver::OnEvents(const std::vector<core::Event>& events,
                               core::Engine& engine, core::Time now) {
  touched_.clear();
  for (const core::Event& e : events) {
    if (e.contact_id.empty()) continue;
    touched_.push_back(e.contact_id);
  }
  if (touched_.empty()) return;
  // One record per contact, its state after the whole command.
  std::sort(touched_.begin(), touched_.end());
  touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
  ClockMap clock(now, std::chrono::system_clock::now());
  // An administrator's change goes in the same atomic batch.
  Batch batch = std::exchange(configured_, Batch());
  for (const std::string& id : touched_) {
    auto view = engine.GetContactState(id);
    if (!view.ok()) {
      // Ended and not remembered (no idempotency retention): nothing of it
      // is kept.
      EndedContact gone;
      gone.set_id(id);
      gone.set_expires_unix_ns(clock.ToUnixNanos(now));
      batch.EndContact(std::move(gone));
      continue;
    }
    if (view->state == core::ContactState::kEnded) {
      batch.EndContact(EndedOf(*view, clock, view->ended_at + retention_));
      continue;
    }
    batch.PutStatus(id, StatusOf(*view, clock));
  }
  journal_.Append(std::move(batch), [](const absl::Status&) {
    // A failure stops the server through JournalOptions::on_failure.
  });
}

void JournalObserver::Configured(Batch batch) {
  configured_.Append(std::move(batch));
}

void JournalObserver::AfterThisCommand(Journal::Done done) {
  after_command_.push_back(std::move(done));
}

void JournalObserver::OnCommandDone(std::chrono::nanoseconds) {
  if (!configured_.empty()) {
    // The command changed no contact.
    journal_.Append(std::exchange(configured_, Batch()), nullptr);
  }
  if (after_command_.empty()) return;
  // Batches are written in Append order: this empty one is durable only
  // once everything the command changed is.
  journal_.Append(Batch(), [waiting = std::move(after_command_)](
                               const absl::Status& written) {
    for (const Journal::Done& done : waiting) done(written);
  });
  after_command_.clear();
}

}  // namespace ccroute::journal
