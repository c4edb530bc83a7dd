// The agent side of ccroute-load: one Agents.Connect stream per agent, each a
// lean callback-API reactor (one read and one write in flight, the rest
// queued), and one timer thread for the delays the agents take. An agent logs
// in READY, accepts each offer after its accept delay, completes the contact
// after its handle time, and ends its wrap-up after the wrap-up delay or
// leaves it to expire on the server (LoadRun's AgentBehaviour). No thread per
// stream: gRPC's callback threads run the reactions.
//
// Thread-safe: Connect and Close are called from one thread (the driver's);
// the streams' reactions and the timer run on their own threads.
#ifndef CCROUTE_BENCH_LOAD_AGENT_FLEET_H_
#define CCROUTE_BENCH_LOAD_AGENT_FLEET_H_

#include <grpcpp/channel.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/load/load_run.h"
#include "ccroute/v1/agents.grpc.pb.h"

namespace ccroute::load {

class AgentStream;
class DelayTimer;

struct FleetOptions {
  // Agents 0 .. agents - 1, named by AgentId().
  int agents = 0;
  // The streams are spread over these channels, round robin.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  uint64_t seed = 1;
  // An agent that sent nothing for this long sends a heartbeat (the server
  // drops desktops silent for limits.heartbeat_timeout, 30 s by default).
  std::chrono::milliseconds heartbeat_interval{10000};
};

class AgentFleet {
 public:
  // `run` must outlive the fleet.
  AgentFleet(FleetOptions options, LoadRun& run);
  // Closes the streams if Close was not called; waits for them to finish.
  ~AgentFleet();
  AgentFleet(const AgentFleet&) = delete;
  AgentFleet& operator=(const AgentFleet&) = delete;

  // Opens every stream and logs every agent in READY. Returns once every
  // login is acknowledged; DEADLINE_EXCEEDED after `timeout`, or the first
  // refused login's code and message (e.g. NOT_FOUND: no such profile).
  absl::Status Connect(std::chrono::milliseconds timeout);
  // Logs every agent out and closes its stream, waiting up to `timeout`
  // for the streams to finish, then cancels the rest. Once only.
  void Close(std::chrono::milliseconds timeout);

  // Called by the streams.
  void OnLogin(bool ok, const std::string& message);
  void OnStreamDone();
  DelayTimer& timer() { return *timer_; }

 private:
  bool WaitForDone(std::chrono::milliseconds timeout);

  FleetOptions options_;
  LoadRun& run_;
  std::unique_ptr<DelayTimer> timer_;
  std::vector<std::unique_ptr<v1::Agents::Stub>> stubs_;
  std::vector<std::unique_ptr<AgentStream>> agents_;
  // Set once agents_ is complete; the timer's heartbeats wait for it.
  std::atomic<bool> started_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  int logins_answered_ = 0;
  std::string first_refusal_;
  int streams_done_ = 0;
  bool closed_ = false;
};

}  // namespace ccroute::load

#endif  // CCROUTE_BENCH_LOAD_AGENT_FLEET_H_
