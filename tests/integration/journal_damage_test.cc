// The real ccrouted started on a journal whose write-ahead log was cut short
// or had bits flipped in its tail (deterministic seeds): it starts, brings
// back every contact created before the damage and none after it, says in
// its log how much of the log it could not replay, and goes on serving and
// journaling new contacts.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ccroute/v1/contacts.grpc.pb.h"
#include "ccroute/v1/supervisor.grpc.pb.h"
#include "tests/integration/ccrouted_process.h"
#include "tests/util/child_process.h"

namespace ccroute {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::Deadline;

constexpr int kContacts = 120;

std::string ContactId(int i) { return "c" + std::to_string(i); }

fs::path NewestWal(const fs::path& dir) {
  fs::path newest;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.path().extension() == ".log" &&
        (newest.empty() || f.path().filename() > newest.filename())) {
      newest = f.path();
    }
  }
  return newest;
}

void FlipBit(const fs::path& file, uintmax_t at, int bit) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ (1 << bit));
  f.seekp(static_cast<std::streamoff>(at));
  f.write(&c, 1);
}

// One damaged journal: the newest write-ahead log cut at `cut` bytes (none
// when nullopt), then bits flipped at `flips` (offsets into what is left).
struct Damage {
  std::optional<uintmax_t> cut;
  std::vector<std::pair<uintmax_t, int>> flips;  // offset, bit
  std::string Describe() const {
    std::string out;
    if (cut) out += "cut at " + std::to_string(*cut);
    for (const auto& [at, bit] : flips) {
      out += (out.empty() ? "" : ", ") + std::string("bit ") +
             std::to_string(bit) + " flipped at " + std::to_string(at);
    }
    return out;
  }
  // The damaged places in a log of `size` bytes after the damage: the
  // flips, and the end if it was cut.
  std::vector<uintmax_t> Points(uintmax_t size) const {
    std::vector<uintmax_t> out;
    if (cut) out.push_back(size);
    for (const auto& [at, bit] : flips) out.push_back(at);
    return out;
  }
};

// Seeds 1-4 cut the log anywhere, 5-8 flip one to three bits in its last
// half, 9-10 do both.
Damage DamageFor(int seed, uintmax_t size) {
  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  Damage d;
  uintmax_t left = size;
  if (seed <= 4 || seed >= 9) {
    d.cut = rng() % size;
    left = *d.cut;
  }
  if (seed >= 5 && left > 2) {
    int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) {
      d.flips.emplace_back(left / 2 + rng() % (left - left / 2),
                           static_cast<int>(rng() % 8));
    }
  }
  return d;
}

class CcroutedOnDamagedJournalTest : public ::testing::Test {
 protected:
  // The undamaged journal, made once: kContacts contacts created one after
  // the other over the API (each its own write-ahead log batch, synced),
  // then ccrouted killed with SIGKILL, so the log is all there is.
  static void SetUpTestSuite() {
    root_ = new fs::path(fs::temp_directory_path() /
                         ("ccroute-damage-" + std::to_string(getpid())));
    fs::remove_all(*root_);
    fs::create_directories(*root_ / "image");
    fs::path config = *root_ / "image.yaml";
    testing::WriteJournalConfig(config, *root_ / "image", "sync");
    testing::ChildProcess server(testing::CcroutedArgs(config),
                                 (*root_ / "image.log").string());
    auto port = testing::WaitForPort(server);
    ASSERT_TRUE(port.has_value()) << server.log();
    auto contacts = v1::Contacts::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + *port, grpc::InsecureChannelCredentials()));
    for (int i = 0; i < kContacts; ++i) {
      v1::CreateContactRequest r;
      r.set_contact_id(ContactId(i));
      r.set_queue("calls");
      r.set_channel(v1::CHANNEL_VOICE);
      (*r.mutable_attributes())["n"] = std::to_string(i);
      v1::Contact c;
      grpc::Status s = contacts->CreateContact(Deadline(10s).get(), r, &c);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
    server.Kill();
  }
  static void TearDownTestSuite() {
    fs::remove_all(*root_);
    delete root_;
  }

  // Damages a copy of the journal as `seed` says and checks a ccrouted
  // started on it.
  void RunCase(int seed);

  static fs::path* root_;
};

fs::path* CcroutedOnDamagedJournalTest::root_ = nullptr;

void CcroutedOnDamagedJournalTest::RunCase(int seed) {
  ASSERT_TRUE(fs::exists(*root_ / "image"));
  fs::path dir = *root_ / ("seed" + std::to_string(seed));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy(*root_ / "image", dir / "data", fs::copy_options::recursive);
  fs::path wal = NewestWal(dir / "data");
  ASSERT_FALSE(wal.empty());
  const uintmax_t size = fs::file_size(wal);
  Damage damage = DamageFor(seed, size);
  SCOPED_TRACE("seed " + std::to_string(seed) + ": " + wal.filename().string() +
               " of " + std::to_string(size) + " bytes, " + damage.Describe());
  if (damage.cut) fs::resize_file(wal, *damage.cut);
  for (const auto& [at, bit] : damage.flips) FlipBit(wal, at, bit);
  const uintmax_t left = fs::file_size(wal);
  fs::path config = dir / "ccrouted.yaml";
  testing::WriteJournalConfig(config, dir / "data", "sync");

  int recovered = 0;
  {
    testing::ChildProcess server(testing::CcroutedArgs(config),
                                 (dir / "ccrouted-1.log").string());
    auto port = testing::WaitForPort(server);
    ASSERT_TRUE(port.has_value()) << "ccrouted did not start:\n"
                                  << server.log();
    std::string log = server.log();
    auto waiting = testing::LogNumber(log, "journal_recovered", "waiting");
    auto dropped =
        testing::LogNumber(log, "journal_recovered", "wal_bytes_dropped");
    ASSERT_TRUE(waiting && dropped) << log;

    // The contacts that came back are those created first, in order, each
    // once; none created after a missing one.
    auto channel = grpc::CreateChannel("127.0.0.1:" + *port,
                                       grpc::InsecureChannelCredentials());
    auto contacts = v1::Contacts::NewStub(channel);
    for (int i = 0; i < kContacts; ++i) {
      v1::GetContactRequest r;
      r.set_contact_id(ContactId(i));
      v1::Contact c;
      grpc::Status s = contacts->GetContact(Deadline(10s).get(), r, &c);
      if (s.error_code() == grpc::StatusCode::NOT_FOUND) break;
      ASSERT_TRUE(s.ok()) << ContactId(i) << ": " << s.error_message();
      ASSERT_EQ(c.state(), v1::CONTACT_STATE_QUEUED) << ContactId(i);
      ASSERT_EQ(c.position(), i + 1) << ContactId(i);
      ++recovered;
    }
    for (int i = recovered + 1; i < kContacts; ++i) {
      v1::GetContactRequest r;
      r.set_contact_id(ContactId(i));
      v1::Contact c;
      EXPECT_EQ(contacts->GetContact(Deadline(10s).get(), r, &c).error_code(),
                grpc::StatusCode::NOT_FOUND)
          << ContactId(i) << " is back but " << ContactId(recovered)
          << " is not";
    }
    EXPECT_EQ(*waiting, recovered) << log;
    std::cout << "seed " << seed << " (" << damage.Describe() << " of " << size
              << " bytes): " << recovered << " of " << kContacts
              << " contacts back, " << *dropped << " bytes not replayed\n";

    // What it dropped is in its log: everything from the batch holding a
    // damaged byte to the end, so the replay ended just before one. (A cut
    // exactly between two batches leaves no trace, and loses nothing
    // written before it; so does a bit flipped in a block's zero padding.)
    if (*dropped > 0) {
      const uintmax_t replayed = left - static_cast<uintmax_t>(*dropped);
      bool at_damage = false;
      for (uintmax_t at : damage.Points(left)) {
        at_damage |= replayed <= at && at < replayed + 1024;
      }
      EXPECT_TRUE(at_damage) << "the replay ended at " << replayed << "\n"
                             << log;
      EXPECT_NE(log.find("\"event\":\"journal_problem\""), std::string::npos)
          << log;
    } else if (!damage.flips.empty()) {
      EXPECT_EQ(recovered, kContacts) << log;
    }

    // It goes on serving: a new contact is created, journaled, and waits
    // behind the recovered ones.
    v1::CreateContactRequest r;
    r.set_contact_id("after-damage");
    r.set_queue("calls");
    r.set_channel(v1::CHANNEL_VOICE);
    v1::Contact c;
    grpc::Status s = contacts->CreateContact(Deadline(10s).get(), r, &c);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(c.position(), recovered + 1);
    // Closed first: ccrouted's graceful stop waits out its shutdown timeout
    // (5 s) while a client connection stays open.
    contacts.reset();
    channel.reset();
    EXPECT_EQ(server.Stop(), 0) << "a graceful stop exits 0\n" << server.log();
  }

  // And what it journaled after the damage survives the next restart,
  // which finds nothing more to drop.
  testing::ChildProcess server(testing::CcroutedArgs(config),
                               (dir / "ccrouted-2.log").string());
  auto port = testing::WaitForPort(server);
  ASSERT_TRUE(port.has_value()) << server.log();
  std::string log = server.log();
  EXPECT_EQ(testing::LogNumber(log, "journal_recovered", "waiting"),
            recovered + 1)
      << log;
  EXPECT_EQ(testing::LogNumber(log, "journal_recovered", "wal_bytes_dropped"),
            0)
      << log;
  auto contacts = v1::Contacts::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + *port, grpc::InsecureChannelCredentials()));
  v1::GetContactRequest r;
  r.set_contact_id("after-damage");
  v1::Contact c;
  grpc::Status s = contacts->GetContact(Deadline(10s).get(), r, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(c.position(), recovered + 1);
  contacts.reset();
  EXPECT_EQ(server.Stop(), 0);
}

TEST_F(CcroutedOnDamagedJournalTest,
       WalCutShortRecoversTheIntactPrefixAndKeepsServing) {
  for (int seed = 1; seed <= 4; ++seed) RunCase(seed);
}

TEST_F(CcroutedOnDamagedJournalTest,
       BitsFlippedInTheWalTailRecoverTheIntactPrefix) {
  for (int seed = 5; seed <= 8; ++seed) RunCase(seed);
}

TEST_F(CcroutedOnDamagedJournalTest, WalCutAndFlippedRecoversTheIntactPrefix) {
  for (int seed = 9; seed <= 10; ++seed) RunCase(seed);
}

}  // namespace
}  // namespace ccroute
