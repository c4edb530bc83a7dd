// Helpers for journal tests: temporary directories and small records.
#ifndef CCROUTE_TESTS_JOURNAL_JOURNAL_TEST_UTIL_H_
#define CCROUTE_TESTS_JOURNAL_JOURNAL_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/synchronization/notification.h"
#include "server/journal/journal.h"

namespace ccroute::journal::testing {

// A directory under the test's temporary directory, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "ccroute-journal-XXXXXX")
            .string();
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline WallTime T0() { return WallTime(std::chrono::seconds(1'800'000'000)); }

inline Contact MakeContactRecord(const std::string& id,
                                 const std::string& queue = "sales") {
  Contact c;
  c.mutable_request()->set_id(id);
  c.mutable_request()->set_queue(queue);
  c.set_created_unix_ns(UnixNanos(T0()));
  return c;
}

inline ContactStatus MakeStatus(ContactState state,
                                const std::string& queue = "sales",
                                int64_t arrived_ns = UnixNanos(T0())) {
  ContactStatus s;
  s.set_state(state);
  s.set_queue(queue);
  s.set_arrived_unix_ns(arrived_ns);
  s.set_entered_unix_ns(arrived_ns);
  return s;
}

inline EndedContact MakeEnded(const std::string& id, WallTime expires) {
  EndedContact e;
  e.set_id(id);
  e.set_requested_queue("sales");
  e.set_queue("sales");
  e.set_end_reason(1);
  e.set_ended_unix_ns(UnixNanos(T0()));
  e.set_expires_unix_ns(UnixNanos(expires));
  return e;
}

// Appends and waits for the batch's acknowledgement; returns its status.
inline absl::Status AppendAndWait(Journal& journal, Batch batch) {
  absl::Notification done;
  absl::Status result;
  journal.Append(std::move(batch), [&](const absl::Status& s) {
    result = s;
    done.Notify();
  });
  done.WaitForNotification();
  return result;
}

}  // namespace ccroute::journal::testing

#endif  // CCROUTE_TESTS_JOURNAL_JOURNAL_TEST_UTIL_H_
