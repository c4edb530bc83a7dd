// Keeps the journal in step with the engine: a new contact is written by
// the create that made it (JournalObserver::Created, whose callback is the
// gateway's acknowledgement), every later change by the observer after the
// command or timer that caused it.
#ifndef CCROUTE_SERVER_JOURNAL_JOURNAL_OBSERVER_H_
#define CCROUTE_SERVER_JOURNAL_JOURNAL_OBSERVER_H_

#include <string>
#include <vector>

#include "server/core/engine.h"
#include "server/journal/journal.h"
#include "server/runtime/engine_runner.h"

namespace ccroute::journal {

// Engine thread only (OnEvents and Created run there). `journal` must
// outlive it.
class JournalObserver final : public runtime::EngineObserver {
 public:
  // Ended contacts keep their idempotency key for `idempotency_retention`
  // (EngineLimits).
  JournalObserver(Journal& journal, core::Duration idempotency_retention);

  // Writes the contact `view` that `request` just created (view.created),
  // or nothing for a retry that returned an existing contact; `done` runs
  // once the journal holds it and everything appended before, as durable
  // as the journal's mode promises, or with the journal's failure. Reply
  // to the gateway from `done`, never before.
  void Created(const core::ContactRequest& request,
               const core::ContactView& view, core::Time now,
               Journal::Done done);

  // For a command that changed contacts (a cancel, an update): `done` runs
  // once the journal holds what the command running now changed, as
  // durable as the mode promises, or with the journal's failure. Reply
  // from `done`.
  void AfterThisCommand(Journal::Done done);

  // For an administrator's change to the configuration, from within the
  // command (run by the EngineRunner) that made it: writes `batch` (its
  // ConfigChange record) once the command is done, in one atomic batch with
  // what the command changed in contacts, so that a crash never keeps one
  // without the other (a queue deleted once its last contact expired, say).
  // Reply from AfterThisCommand's `done`.
  void Configured(Batch batch);

  // For each contact the events touched: its latest status, or its end.
  void OnEvents(const std::vector<core::Event>& events, core::Engine& engine,
                core::Time now) override;
  // Appends what Configured holds if OnEvents did not (the command changed
  // no contact), then the barriers AfterThisCommand asked for, behind
  // OnEvents' batch.
  void OnCommandDone(std::chrono::nanoseconds busy) override;

 private:
  Journal& journal_;
  const core::Duration retention_;
  std::vector<std::string> touched_;
  Batch configured_;  // Configured's records, until the command is done
  std::vector<Journal::Done> after_command_;
};

}  // namespace ccroute::journal

#endif  // CCROUTE_SERVER_JOURNAL_JOURNAL_OBSERVER_H_
