// The state of one ccroute-load run that the gateway, the agent streams and
// the report share: what the agents do (delays and their distributions),
// the record of every contact created, the counters and the errors.
//
// Thread-safe: contact records and counters are atomics written by whichever
// thread sees a step (the gateway's callbacks, the agent streams' reactions,
// the timer thread); the report reads them after the run has quiesced.
#ifndef CCROUTE_BENCH_LOAD_LOAD_RUN_H_
#define CCROUTE_BENCH_LOAD_LOAD_RUN_H_

#include <grpcpp/support/status.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace ccroute::load {

// Nanoseconds on the steady clock.
int64_t NowNs();

// A delay an agent takes: constant, exponential or uniform on [0, 2 mean].
struct Delay {
  enum class Shape { kConstant, kExponential, kUniform };
  double mean_ms = 0;
  Shape shape = Shape::kConstant;

  // Parses "const", "exp" or "uniform"; false for anything else.
  static bool ParseShape(std::string_view name, Shape& out);
  static const char* ShapeName(Shape shape);
  // A draw in nanoseconds from `u`, uniform on (0, 1).
  int64_t DrawNs(double u) const;
};

// A small, fast generator (SplitMix64): one per agent and per gateway thread,
// so that no draw takes a lock. Not thread-safe.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t Next();
  // Uniform on (0, 1), never 0 or 1.
  double Uniform();

 private:
  uint64_t state_;
};

// What each agent does with its work.
struct AgentBehaviour {
  // From the offer (seen at the stream) to sending accept.
  Delay accept;
  // From the assignment to sending complete.
  Delay handle;
  // From the start of wrap-up to sending end_wrap_up.
  Delay wrap_up;
  // The wrap-up time of the agents' profiles: the server ends a wrap-up
  // after it. A draw of `wrap_up` at or past it leaves the wrap-up to expire.
  double wrap_up_timeout_ms = 0;
  // The share of wrap-ups the agent leaves to expire on the server.
  double wrap_up_expire = 0;
};

// The times of one contact's steps, in NowNs() nanoseconds; 0: not seen.
struct ContactRecord {
  // When the arrival process wanted the contact created, and when the
  // CreateContact call was made and answered.
  std::atomic<int64_t> scheduled{0};
  std::atomic<int64_t> create_sent{0};
  std::atomic<int64_t> create_done{0};
  // The first offer of the contact seen on an agent stream.
  std::atomic<int64_t> offered{0};
  std::atomic<int64_t> accept_sent{0};
  std::atomic<int64_t> accept_acked{0};
  // wrap_up_ended seen on the agent stream: the lifecycle is complete.
  std::atomic<int64_t> completed{0};
  // The create failed (the status is counted in the errors).
  std::atomic<bool> failed{false};
};

// Every contact the run creates, by sequence number. Records live until the
// log is destroyed; their addresses never change.
class ContactLog {
 public:
  ContactLog();
  ~ContactLog();
  ContactLog(const ContactLog&) = delete;
  ContactLog& operator=(const ContactLog&) = delete;

  // The record of `seq`, allocated if needed. Aborts past the maximum
  // (2^30 contacts).
  ContactRecord& Allocate(uint64_t seq);
  // The record of `seq` if allocated, else nullptr.
  ContactRecord* Find(uint64_t seq) const;

 private:
  static constexpr int kSegmentBits = 16;
  static constexpr size_t kSegmentSize = size_t{1} << kSegmentBits;
  static constexpr size_t kMaxSegments = size_t{1} << 14;
  std::mutex grow_mu_;
  std::unique_ptr<std::atomic<ContactRecord*>[]> segments_;
};

// The run's shared state. The gateway calls OnCreate*; the agent streams
// call the others.
class LoadRun {
 public:
  // `id_prefix` starts every contact id of this run (ids are
  // "<prefix>-<seq>"), so that runs against one server never collide.
  LoadRun(std::string id_prefix, AgentBehaviour behaviour);

  const std::string& id_prefix() const { return id_prefix_; }
  const AgentBehaviour& behaviour() const { return behaviour_; }
  ContactLog& contacts() { return contacts_; }

  std::string ContactId(uint64_t seq) const;
  // The sequence number in one of this run's contact ids; false for an id
  // the run did not make.
  bool ParseContactId(std::string_view id, uint64_t& seq) const;

  // Called once per lifecycle that ends (completed, or its create failed);
  // the closed-loop gateway starts the next contact from it.
  void SetOnContactDone(std::function<void()> on_done) {
    on_done_ = std::move(on_done);
  }

  void OnCreateFailed(ContactRecord& r, std::string_view method,
                      const grpc::Status& status);
  void OnCreated() { created_.fetch_add(1); }
  void OnCompleted(ContactRecord& r);
  // An error that is not a call's status: "ack accept NOT_FOUND", ...
  void CountError(const std::string& what);
  void CountStatus(std::string_view method, const grpc::Status& status);
  // An offer withdrawn from an agent ("timed_out", "rescinded", ...).
  void CountWithdrawn(const std::string& reason);

  int64_t created() const { return created_.load(); }
  int64_t create_failed() const { return create_failed_.load(); }
  int64_t completed() const { return completed_.load(); }
  std::atomic<int64_t>& offers() { return offers_; }
  std::atomic<int64_t>& foreign_offers() { return foreign_offers_; }
  std::atomic<int64_t>& wrap_ups_expired() { return wrap_ups_expired_; }
  std::atomic<int64_t>& wrap_up_races() { return wrap_up_races_; }
  std::atomic<int64_t>& not_created() { return not_created_; }

  // Messages on the agent streams: events received by kind (the
  // AgentEvent oneof's field number, 1-8), and requests sent.
  static constexpr int kEventKinds = 9;
  std::atomic<int64_t>& events(int kind) { return events_[kind]; }
  std::atomic<int64_t>& requests_sent() { return requests_sent_; }

  std::map<std::string, int64_t> errors() const;
  int64_t error_count() const;
  std::map<std::string, int64_t> withdrawn() const;

 private:
  const std::string id_prefix_;
  const AgentBehaviour behaviour_;
  ContactLog contacts_;
  std::function<void()> on_done_;
  std::atomic<int64_t> created_{0};
  std::atomic<int64_t> create_failed_{0};
  std::atomic<int64_t> completed_{0};
  std::atomic<int64_t> offers_{0};
  std::atomic<int64_t> foreign_offers_{0};
  std::atomic<int64_t> wrap_ups_expired_{0};
  std::atomic<int64_t> wrap_up_races_{0};
  // CreateContact answered OK with created = false: the id existed.
  std::atomic<int64_t> not_created_{0};
  std::array<std::atomic<int64_t>, kEventKinds> events_{};
  std::atomic<int64_t> requests_sent_{0};
  mutable std::mutex errors_mu_;
  std::map<std::string, int64_t> errors_;
  std::map<std::string, int64_t> withdrawn_;
};

// "OK", "UNAVAILABLE", ... for a gRPC (google.rpc) status code.
std::string StatusCodeName(int code);

}  // namespace ccroute::load

#endif  // CCROUTE_BENCH_LOAD_LOAD_RUN_H_
