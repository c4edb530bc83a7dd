// The journal on RocksDB: round trips, order, compaction, the durability
// modes, group commit, and damaged tails.
#include "server/journal/journal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <vector>

#include "absl/synchronization/notification.h"
#include "server/journal/rocksdb_journal.h"
#include "tests/journal/journal_test_util.h"

namespace ccroute::journal {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::AppendAndWait;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::MakeContactRecord;
using testing::MakeEnded;
using testing::MakeStatus;
using ::testing::Not;
using testing::T0;
using testing::TempDir;

std::unique_ptr<RocksDbJournal> OpenJournal(const std::string& dir,
                                            JournalOptions options = {}) {
  auto j = RocksDbJournal::Open(dir, std::move(options));
  EXPECT_TRUE(j.ok()) << j.status();
  return j.ok() ? *std::move(j) : nullptr;
}

RecoveredState RecoverOk(Journal& j, WallTime now = T0()) {
  auto state = j.Recover(now);
  EXPECT_TRUE(state.ok()) << state.status();
  return state.ok() ? *std::move(state) : RecoveredState{};
}

std::vector<std::string> Ids(const RecoveredState& s) {
  std::vector<std::string> out;
  for (const JournaledContact& c : s.contacts) {
    out.push_back(c.contact.request().id());
  }
  return out;
}

Batch Create(const std::string& id) {
  Batch b;
  b.PutContact(MakeContactRecord(id), MakeStatus(CONTACT_STATE_WAITING));
  return b;
}

TEST(JournalTest, RoundTripKeepsTheLatestStateOfEachContact) {
  TempDir dir;
  {
    auto j = OpenJournal(dir.path());
    RecoverOk(*j);
    ASSERT_TRUE(AppendAndWait(*j, Create("c1")).ok());
    ASSERT_TRUE(AppendAndWait(*j, Create("c2")).ok());
    ASSERT_TRUE(AppendAndWait(*j, Create("c3")).ok());
    Batch b;
    ContactStatus assigned = MakeStatus(CONTACT_STATE_ASSIGNED);
    assigned.set_agent_id("a1");
    assigned.set_waited_ns(7);
    b.PutStatus("c2", assigned);
    b.EndContact(MakeEnded("c1", T0() + 10min));
    ASSERT_TRUE(AppendAndWait(*j, std::move(b)).ok());
  }
  auto j = OpenJournal(dir.path());
  RecoveredState s = RecoverOk(*j);
  EXPECT_THAT(Ids(s), ElementsAre("c2", "c3"));
  EXPECT_EQ(s.contacts[0].status.state(), CONTACT_STATE_ASSIGNED);
  EXPECT_EQ(s.contacts[0].status.agent_id(), "a1");
  EXPECT_EQ(s.contacts[0].status.waited_ns(), 7);
  EXPECT_EQ(s.contacts[1].status.state(), CONTACT_STATE_WAITING);
  ASSERT_EQ(s.ended.size(), 1u);
  EXPECT_EQ(s.ended[0].id(), "c1");
  EXPECT_EQ(s.dropped_records, 0);
  EXPECT_THAT(s.problems, IsEmpty());
}

ConfigChange Change(const std::string& key, const std::string& value) {
  ConfigChange c;
  c.set_key(key);
  c.set_value(value);
  return c;
}

std::vector<std::string> ConfigKeys(const RecoveredState& s) {
  std::vector<std::string> out;
  for (const ConfigChange& c : s.config) out.push_back(c.key());
  return out;
}

TEST(JournalTest, ConfigChangesComeBackLatestPerKeyInTheOrderMade) {
  TempDir dir;
  {
    auto j = OpenJournal(dir.path());
    RecoverOk(*j);
    Batch b;
    b.PutConfig(Change("queue/vip", "v1"));
    b.PutConfig(Change("agent/bob", "b1"));
    ASSERT_TRUE(AppendAndWait(*j, std::move(b)).ok());
    ASSERT_TRUE(AppendAndWait(*j, Create("c1")).ok());
    Batch later;
    later.PutConfig(Change("queue/vip", "v2"));  // replaces v1, now last
    later.PutConfig(Change("routing_policy", "p"));
    later.PutConfig(Change("agent/zed", "z"));
    later.EraseConfig("agent/zed");  // erased in the same batch
    ASSERT_TRUE(AppendAndWait(*j, std::move(later)).ok());
  }
  {
    auto j = OpenJournal(dir.path());
    RecoveredState s = RecoverOk(*j);
    EXPECT_THAT(ConfigKeys(s),
                ElementsAre("agent/bob", "queue/vip", "routing_policy"));
    EXPECT_EQ(s.config[1].value(), "v2");
    EXPECT_THAT(Ids(s), ElementsAre("c1"));
    // Contacts and changes share one order, which goes on after a reopen.
    EXPECT_LT(s.config[0].seq(), s.contacts[0].contact.seq());
    EXPECT_GT(s.config[1].seq(), s.contacts[0].contact.seq());
    EXPECT_EQ(s.dropped_records, 0);
    Batch b;
    b.EraseConfig("agent/bob");
    b.PutConfig(Change("agent/bob2", "b2"));
    ASSERT_TRUE(AppendAndWait(*j, std::move(b)).ok());
    ASSERT_TRUE(j->Compact(T0()).ok());
  }
  auto j = OpenJournal(dir.path());
  RecoveredState s = RecoverOk(*j);
  EXPECT_THAT(ConfigKeys(s),
              ElementsAre("queue/vip", "routing_policy", "agent/bob2"));
  EXPECT_GT(s.config[2].seq(), s.config[1].seq());
}

TEST(JournalTest, ContactsComeBackInCreationOrderAcrossRestarts) {
  TempDir dir;
  std::vector<std::string> expected;
  // Ids that sort differently from their creation order.
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    auto j = OpenJournal(dir.path());
    EXPECT_THAT(Ids(RecoverOk(*j)), ::testing::ContainerEq(expected));
    for (int i = 0; i < 100; ++i) {
      std::string id = "c" + std::to_string(rng() % 1'000'000) + "-" +
                       std::to_string(round * 100 + i);
      expected.push_back(id);
      j->Append(Create(id), nullptr);
    }
    ASSERT_TRUE(j->Flush().ok());
  }
  auto j = OpenJournal(dir.path());
  EXPECT_THAT(Ids(RecoverOk(*j)), ::testing::ContainerEq(expected));
}

TEST(JournalTest, ARecordWithoutItsPairIsDroppedAndCounted) {
  // Contacts and statuses are paired by id in the store's key order, so
  // the ids interleave, and some have bytes above 0x7f.
  TempDir dir;
  const std::vector<std::string> created = {"m",  "b", "\xc3\xa9", "a",
                                            "ab", "z", "b0",       "\x7f"};
  {
    auto j = OpenJournal(dir.path());
    RecoverOk(*j);
    for (const std::string& id : created) {
      ASSERT_TRUE(AppendAndWait(*j, Create(id)).ok());
    }
    Batch orphans;  // statuses of contacts that were never created
    for (const char* id : {"aa", "bz", "\xff", "0"}) {
      orphans.PutStatus(id, MakeStatus(CONTACT_STATE_WAITING));
    }
    ASSERT_TRUE(AppendAndWait(*j, std::move(orphans)).ok());
  }
  {
    // Contacts whose status is gone: only the store itself can do that.
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir.path(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), "sb").ok());
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), "s\xc3\xa9").ok());
    ASSERT_TRUE(db->Close().ok());
  }
  auto j = OpenJournal(dir.path());
  RecoveredState s = RecoverOk(*j);
  EXPECT_THAT(Ids(s), ElementsAre("m", "a", "ab", "z", "b0", "\x7f"));
  EXPECT_EQ(s.dropped_records, 6);
}

TEST(JournalTest, RecreatedIdReplacesItsIdempotencyKey) {
  TempDir dir;
  auto j = OpenJournal(dir.path());
  RecoverOk(*j);
  Batch end;
  end.EndContact(MakeEnded("c1", T0() + 10min));
  ASSERT_TRUE(AppendAndWait(*j, Create("c1")).ok());
  ASSERT_TRUE(AppendAndWait(*j, std::move(end)).ok());
  ASSERT_TRUE(AppendAndWait(*j, Create("c1")).ok());
  j.reset();
  j = OpenJournal(dir.path());
  RecoveredState s = RecoverOk(*j);
  EXPECT_THAT(Ids(s), ElementsAre("c1"));
  EXPECT_THAT(s.ended, IsEmpty());
}

TEST(JournalTest, CompactionRemovesExpiredKeysAndEndedContacts) {
  TempDir dir;
  {
    auto j = OpenJournal(dir.path());
    RecoverOk(*j);
    for (int i = 0; i < 2000; ++i) {
      std::string id = "c" + std::to_string(i);
      Batch b = Create(id);
      b.EndContact(
          MakeEnded(id, T0() + std::chrono::seconds(i < 1500 ? 1 : 3600)));
      j->Append(std::move(b), nullptr);
    }
    ASSERT_TRUE(AppendAndWait(*j, Create("live")).ok());
    // Before compaction the expired keys are still there, only skipped.
    RecoveredState before = RecoverOk(*j, T0() + 1min);
    EXPECT_EQ(before.expired_keys, 1500);
    ASSERT_TRUE(j->Compact(T0() + 1min).ok());
  }
  auto j = OpenJournal(dir.path());
  RecoveredState s = RecoverOk(*j, T0() + 1min);
  EXPECT_THAT(Ids(s), ElementsAre("live"));
  EXPECT_EQ(s.ended.size(), 500u);
  EXPECT_EQ(s.expired_keys, 0);
  // The ended contacts' records are gone from disk, not merely hidden: the
  // tables hold the live contact and 500 keys, far less than 2000 records.
  uintmax_t table_bytes = 0;
  for (const auto& f : fs::directory_iterator(dir.path())) {
    if (f.path().extension() == ".sst") table_bytes += f.file_size();
  }
  EXPECT_GT(table_bytes, 0u);
  EXPECT_LT(table_bytes, 2000u * 40u);
}

class DurabilityTest : public ::testing::TestWithParam<Durability> {};

TEST_P(DurabilityTest, AcknowledgedBatchesSurviveAReopen) {
  TempDir dir;
  JournalOptions options;
  options.durability = GetParam();
  options.sync_interval = 10ms;
  {
    auto j = OpenJournal(dir.path(), options);
    RecoverOk(*j);
    std::atomic<int> acked{0};
    for (int i = 0; i < 300; ++i) {
      j->Append(Create("c" + std::to_string(i)), [&](const absl::Status& s) {
        EXPECT_TRUE(s.ok()) << s;
        acked++;
      });
    }
    ASSERT_TRUE(j->Flush().ok());
    EXPECT_EQ(acked.load(), 300);
    JournalStats stats = j->stats();
    EXPECT_EQ(stats.appends, 300);
    EXPECT_GE(stats.writes, 1);
    EXPECT_LE(stats.writes, 300);
    if (GetParam() == Durability::kSync) {
      // One sync per write, plus Flush's own.
      EXPECT_EQ(stats.syncs, stats.writes + 1);
    }
  }
  auto j = OpenJournal(dir.path(), options);
  EXPECT_EQ(RecoverOk(*j).contacts.size(), 300u);
}

TEST_P(DurabilityTest, ACrashImageHoldsEveryAcknowledgedBatch) {
  // A copy of the directory taken while the journal is open is what a
  // killed process leaves behind.
  TempDir dir, copy;
  JournalOptions options;
  options.durability = GetParam();
  options.sync_interval = 1h;  // the thread never syncs during the test
  auto j = OpenJournal(dir.path(), options);
  RecoverOk(*j);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(AppendAndWait(*j, Create("c" + std::to_string(i))).ok());
  }
  if (GetParam() != Durability::kSync) {
    EXPECT_EQ(j->stats().syncs, 0);
  }
  fs::copy(dir.path(), copy.path(),
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  fs::remove(fs::path(copy.path()) / "LOCK");
  auto crashed = OpenJournal(copy.path(), options);
  EXPECT_EQ(RecoverOk(*crashed).contacts.size(), 50u);
}

INSTANTIATE_TEST_SUITE_P(Modes, DurabilityTest,
                         ::testing::Values(Durability::kSync,
                                           Durability::kInterval,
                                           Durability::kNone),
                         [](const auto& info) {
                           return std::string(DurabilityName(info.param));
                         });

TEST(JournalTest, GroupCommitWritesQueuedBatchesWithOneSync) {
  TempDir dir;
  absl::Notification writer_waiting, release;
  std::atomic<int> turns{0};
  JournalOptions options;
  options.durability = Durability::kSync;
  options.before_write = [&] {
    // Hold the writer in its first turn while the rest queue up.
    if (turns++ == 0) {
      writer_waiting.Notify();
      release.WaitForNotification();
    }
  };
  auto j = OpenJournal(dir.path(), options);
  RecoverOk(*j);
  std::atomic<int> acked{0};
  auto count = [&](const absl::Status& s) {
    EXPECT_TRUE(s.ok());
    acked++;
  };
  j->Append(Create("first"), count);
  writer_waiting.WaitForNotification();
  for (int i = 0; i < 100; ++i)
    j->Append(Create("c" + std::to_string(i)), count);
  EXPECT_EQ(acked.load(), 0);  // nothing acknowledged before its sync
  release.Notify();
  ASSERT_TRUE(j->Flush().ok());
  EXPECT_EQ(acked.load(), 101);
  JournalStats stats = j->stats();
  EXPECT_EQ(stats.appends, 101);
  EXPECT_EQ(stats.writes, 2);
  EXPECT_EQ(stats.syncs, 3);  // two groups and Flush
}

TEST(JournalTest, AppendBeforeRecoverIsRefused) {
  TempDir dir;
  auto j = OpenJournal(dir.path());
  absl::Status result;
  j->Append(Create("c1"), [&](const absl::Status& s) { result = s; });
  EXPECT_TRUE(absl::IsFailedPrecondition(result)) << result;
}

TEST(JournalTest, SecondOpenOfTheSameDirectoryFailsCleanly) {
  TempDir dir;
  auto j = OpenJournal(dir.path());
  auto second = RocksDbJournal::Open(dir.path(), {});
  EXPECT_FALSE(second.ok());
}

TEST(JournalTest, DurabilityNamesParse) {
  for (Durability d :
       {Durability::kSync, Durability::kInterval, Durability::kNone}) {
    EXPECT_EQ(ParseDurability(DurabilityName(d)), d);
  }
  EXPECT_EQ(ParseDurability("always"), std::nullopt);
}

TEST(NullJournalTest, AcknowledgesAtOnceAndKeepsNothing) {
  NullJournal j;
  EXPECT_TRUE(AppendAndWait(j, Create("c1")).ok());
  RecoveredState s = RecoverOk(j);
  EXPECT_THAT(s.contacts, IsEmpty());
  EXPECT_EQ(j.stats().appends, 1);
  EXPECT_EQ(j.stats().syncs, 0);
}

// --- Damaged journals -------------------------------------------------------

// Writes `n` batches, each creating contact i and ending contact i-3, and
// copies the directory while the journal is open (a crash image).
void WriteCrashImage(const std::string& dir, const std::string& image, int n) {
  auto j = OpenJournal(dir);
  RecoverOk(*j);
  for (int i = 0; i < n; ++i) {
    Batch b = Create("c" + std::to_string(i));
    if (i >= 3) {
      b.EndContact(MakeEnded("c" + std::to_string(i - 3), T0() + 1h));
    }
    j->Append(std::move(b), nullptr);
  }
  ASSERT_TRUE(j->Flush().ok());
  fs::copy(dir, image, fs::copy_options::recursive);
  fs::remove(fs::path(image) / "LOCK");
}

fs::path NewestWal(const std::string& dir) {
  fs::path newest;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.path().extension() == ".log" &&
        (newest.empty() || f.path().filename() > newest.filename())) {
      newest = f.path();
    }
  }
  return newest;
}

// The contacts recovered after damage are the state after some prefix of
// the batches: the three latest created ones, or fewer at the very start.
void ExpectPrefixState(const RecoveredState& s, int n, int* batches) {
  std::vector<std::string> ids = Ids(s);
  ASSERT_LE(ids.size(), 3u);
  if (ids.empty()) {
    *batches = 0;
    EXPECT_THAT(s.ended, IsEmpty());
    return;
  }
  int last = std::stoi(ids.back().substr(1));
  ASSERT_LT(last, n);
  std::vector<std::string> want;
  for (int i = std::max(0, last - 2); i <= last; ++i) {
    want.push_back("c" + std::to_string(i));
  }
  EXPECT_EQ(ids, want);
  EXPECT_EQ(static_cast<int>(s.ended.size()), std::max(0, last - 2));
  *batches = last + 1;
}

void CopyTree(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

TEST(JournalDamageTest, TornWalTailRecoversAnIntactPrefix) {
  TempDir dir, image, work;
  constexpr int kBatches = 60;
  WriteCrashImage(dir.path(), image.path(), kBatches);
  fs::path wal = NewestWal(image.path());
  ASSERT_FALSE(wal.empty());
  uintmax_t size = fs::file_size(wal);
  ASSERT_GT(size, 100u);
  std::mt19937 rng(1);
  int previous = -1;
  for (int round = 0; round < 40; ++round) {
    uintmax_t cut = round == 0 ? 0 : rng() % size;
    CopyTree(image.path(), work.path());
    fs::resize_file(fs::path(work.path()) / wal.filename(), cut);
    auto j = OpenJournal(work.path());
    ASSERT_NE(j, nullptr) << "cut at " << cut;
    int batches = 0;
    ExpectPrefixState(RecoverOk(*j), kBatches, &batches);
    SCOPED_TRACE(cut);
    EXPECT_LE(batches, kBatches);
    (void)previous;
  }
}

TEST(JournalDamageTest, FlippedBitsInTheTailRecoverAnIntactPrefix) {
  TempDir dir, image, work;
  constexpr int kBatches = 60;
  WriteCrashImage(dir.path(), image.path(), kBatches);
  fs::path wal = NewestWal(image.path());
  uintmax_t size = fs::file_size(wal);
  std::mt19937 rng(2);
  int reported = 0, shortened = 0;
  for (int round = 0; round < 40; ++round) {
    // Somewhere in the last half of the log.
    uintmax_t at = size / 2 + rng() % (size - size / 2);
    int bit = static_cast<int>(rng() % 8);
    CopyTree(image.path(), work.path());
    fs::path target = fs::path(work.path()) / wal.filename();
    {
      std::fstream f(target, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(at));
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ (1 << bit));
      f.seekp(static_cast<std::streamoff>(at));
      f.write(&c, 1);
    }
    auto j = OpenJournal(work.path());
    ASSERT_NE(j, nullptr) << "flip at " << at;
    RecoveredState s = RecoverOk(*j);
    int batches = 0;
    ExpectPrefixState(s, kBatches, &batches);
    if (batches < kBatches) {
      shortened++;
      if (!s.problems.empty()) reported++;
    }
  }
  // A flipped bit fails a record's checksum: the replay stops before it,
  // and says so.
  EXPECT_GT(shortened, 0);
  EXPECT_EQ(reported, shortened);
}

TEST(JournalDamageTest, WalBytesDroppedIsTheTailAfterTheLastIntactBatch) {
  // Batches from a few bytes to 100 KB, so that records span the log's
  // 32 KiB blocks and end anywhere in them, a header's length from the end
  // included.
  TempDir dir, image, work;
  constexpr int kBatches = 80;
  {
    auto j = OpenJournal(dir.path());
    RecoverOk(*j);
    std::mt19937 rng(4);
    for (int i = 0; i < kBatches; ++i) {
      Contact c = MakeContactRecord("c" + std::to_string(i));
      size_t bytes = rng() % 3 == 0 ? rng() % 100000 : rng() % 300;
      Attribute* a = c.mutable_request()->add_attributes();
      a->set_key("pad");
      a->set_value(std::string(bytes, 'x'));
      Batch b;
      b.PutContact(std::move(c), MakeStatus(CONTACT_STATE_WAITING));
      ASSERT_TRUE(AppendAndWait(*j, std::move(b)).ok());
    }
    fs::copy(dir.path(), image.path(), fs::copy_options::recursive);
    fs::remove(fs::path(image.path()) / "LOCK");
  }
  fs::path wal = NewestWal(image.path());
  uintmax_t size = fs::file_size(wal);
  ASSERT_GT(size, 20 * 32768u);
  {
    CopyTree(image.path(), work.path());
    auto j = OpenJournal(work.path());
    RecoveredState s = RecoverOk(*j);
    EXPECT_EQ(s.contacts.size(), static_cast<size_t>(kBatches));
    EXPECT_EQ(s.wal_bytes_dropped, 0);
    EXPECT_THAT(s.problems, IsEmpty());
  }
  std::mt19937 rng(5);
  std::map<size_t, uintmax_t>
      end_of;  // contacts back -> where the replay ended
  for (int round = 0; round < 30; ++round) {
    uintmax_t cut = rng() % size;
    SCOPED_TRACE("cut at " + std::to_string(cut));
    CopyTree(image.path(), work.path());
    fs::resize_file(fs::path(work.path()) / wal.filename(), cut);
    uintmax_t end;
    size_t back;
    {
      auto j = OpenJournal(work.path());
      RecoveredState s = RecoverOk(*j);
      ASSERT_GE(s.wal_bytes_dropped, 0);
      ASSERT_LE(static_cast<uintmax_t>(s.wal_bytes_dropped), cut);
      end = cut - static_cast<uintmax_t>(s.wal_bytes_dropped);
      back = s.contacts.size();
      if (s.wal_bytes_dropped > 0) {
        EXPECT_THAT(s.problems, Not(IsEmpty()));
      }
    }
    // Cuts that keep the same batches end the replay at the same place...
    EXPECT_EQ(end_of.emplace(back, end).first->second, end)
        << back << " batches";
    // ... which is where a batch ends: cut there, the log loses nothing
    // more and leaves no trace.
    CopyTree(image.path(), work.path());
    fs::resize_file(fs::path(work.path()) / wal.filename(), end);
    auto j = OpenJournal(work.path());
    RecoveredState s = RecoverOk(*j);
    EXPECT_EQ(s.contacts.size(), back);
    EXPECT_EQ(s.wal_bytes_dropped, 0);
  }
  // More batches back, a later end.
  uintmax_t previous = 0;
  for (const auto& [back, end] : end_of) {
    EXPECT_GE(end, previous) << back;
    previous = end;
  }
}

TEST(JournalDamageTest, DamagedFilesNeverCrashTheOpen) {
  // After a compaction the state sits in tables and the manifest too; any
  // file may be cut or flipped. The journal opens (repairing if need be),
  // and what it returns decodes and belongs to what was written.
  TempDir dir, image, work;
  {
    auto j = OpenJournal(dir.path());
    RecoverOk(*j);
    for (int i = 0; i < 40; ++i)
      j->Append(Create("c" + std::to_string(i)), nullptr);
    ASSERT_TRUE(j->Flush().ok());
    ASSERT_TRUE(j->Compact(T0()).ok());
    for (int i = 40; i < 60; ++i)
      j->Append(Create("c" + std::to_string(i)), nullptr);
    ASSERT_TRUE(j->Flush().ok());
    fs::copy(dir.path(), image.path(), fs::copy_options::recursive);
    fs::remove(fs::path(image.path()) / "LOCK");
  }
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(image.path())) {
    if (f.is_regular_file() && f.file_size() > 0) {
      files.push_back(f.path().filename());
    }
  }
  std::mt19937 rng(3);
  int opened = 0;
  for (int round = 0; round < 30; ++round) {
    const fs::path& name = files[rng() % files.size()];
    CopyTree(image.path(), work.path());
    fs::path target = fs::path(work.path()) / name;
    uintmax_t size = fs::file_size(target);
    uintmax_t at = rng() % size;
    if (round % 2 == 0) {
      fs::resize_file(target, at);
    } else {
      std::fstream f(target, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(static_cast<std::streamoff>(at));
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ (1 << (rng() % 8)));
      f.seekp(static_cast<std::streamoff>(at));
      f.write(&c, 1);
    }
    SCOPED_TRACE(name.string() + " at " + std::to_string(at));
    auto j = RocksDbJournal::Open(work.path(), {});
    if (!j.ok()) continue;  // a clean error is acceptable, a crash is not
    opened++;
    auto s = (*j)->Recover(T0());
    ASSERT_TRUE(s.ok()) << s.status();
    std::set<std::string> seen;
    for (const JournaledContact& c : s->contacts) {
      const std::string& id = c.contact.request().id();
      EXPECT_TRUE(seen.insert(id).second) << id << " twice";
      ASSERT_EQ(id[0], 'c');
      EXPECT_LT(std::stoi(id.substr(1)), 60);
    }
  }
  EXPECT_GT(opened, 0);
}

}  // namespace
}  // namespace ccroute::journal
