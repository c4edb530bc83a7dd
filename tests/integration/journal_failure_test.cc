// A journal that can no longer be written stops ccrouted with exit status
// 1, and every contact it acknowledged before is back after a restart. The
// write fails for real: once the server runs, its file size limit
// (RLIMIT_FSIZE, which binds root too, unlike file permissions) is lowered
// with prlimit(2), so the write-ahead log cannot grow past it. SIGXFSZ is
// ignored, which the server inherits, so that the write fails with EFBIG
// instead of the signal killing the process.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "ccroute/v1/contacts.grpc.pb.h"
#include "tests/integration/ccrouted_process.h"
#include "tests/util/child_process.h"

namespace ccroute {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Deadline;

TEST(JournalFailureTest, AFailedJournalWriteStopsTheServerWithExitStatusOne) {
  fs::path dir = fs::temp_directory_path() /
                 ("ccroute-journal-failure-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::path config = dir / "ccrouted.yaml";
  testing::WriteJournalConfig(config, dir / "data", "sync");
  ASSERT_NE(signal(SIGXFSZ, SIG_IGN), SIG_ERR);

  std::vector<std::string> acknowledged;
  {
    testing::ChildProcess server(testing::CcroutedArgs(config),
                                 (dir / "ccrouted-1.log").string());
    auto port = testing::WaitForPort(server);
    ASSERT_TRUE(port.has_value()) << server.log();
    // Far above what the server wrote so far (its start writes a few KB),
    // far below what the contacts below need.
    constexpr rlim_t kMaxFileBytes = 256 * 1024;
    rlimit limit{kMaxFileBytes, kMaxFileBytes};
    ASSERT_EQ(prlimit(server.pid(), RLIMIT_FSIZE, &limit, nullptr), 0)
        << std::strerror(errno);

    // About 16 KB a contact: the log reaches the limit within some 20.
    auto contacts = v1::Contacts::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + *port, grpc::InsecureChannelCredentials()));
    grpc::Status refused;
    for (int i = 0; i < 200 && refused.ok(); ++i) {
      v1::CreateContactRequest r;
      r.set_contact_id("c" + std::to_string(i));
      r.set_queue("calls");
      r.set_channel(v1::CHANNEL_VOICE);
      for (int a = 0; a < 32; ++a) {
        (*r.mutable_attributes())["a" + std::to_string(a)] =
            std::string(500, 'x');
      }
      v1::Contact c;
      refused = contacts->CreateContact(Deadline(10s).get(), r, &c);
      if (refused.ok()) acknowledged.push_back(r.contact_id());
    }
    ASSERT_FALSE(refused.ok()) << "the journal never failed";
    // "The change could not be stored", or the server already gone.
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE)
        << refused.error_message();
    EXPECT_FALSE(acknowledged.empty());
    // Closed first: a graceful stop waits out the shutdown timeout (5 s)
    // while a client connection stays open.
    contacts.reset();
    // Whatever the call saw (the journal's error, or the server going away),
    // the server stops by itself, and says why.
    EXPECT_EQ(server.WaitForExit(30s), 1) << server.log();
    EXPECT_NE(server.log().find("\"event\":\"journal_failed\""),
              std::string::npos)
        << server.log();
  }

  // Without the limit, it starts again on the same journal with every
  // contact it acknowledged.
  testing::ChildProcess server(testing::CcroutedArgs(config),
                               (dir / "ccrouted-2.log").string());
  auto port = testing::WaitForPort(server);
  ASSERT_TRUE(port.has_value()) << server.log();
  auto contacts = v1::Contacts::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + *port, grpc::InsecureChannelCredentials()));
  for (const std::string& id : acknowledged) {
    v1::GetContactRequest r;
    r.set_contact_id(id);
    v1::Contact c;
    grpc::Status s = contacts->GetContact(Deadline(10s).get(), r, &c);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
  }
  contacts.reset();
  EXPECT_EQ(server.Stop(), 0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ccroute
