// The gateway side of ccroute-load: Contacts.CreateContact calls over the
// callback API, as a Poisson process at a given rate (open loop, on a thread
// of its own) or as a closed loop that keeps a given number of contacts live
// (each contact that completes or fails starts the next). Contacts go to the
// center's queues at random; ids are the run's ("<prefix>-<seq>").
//
// Thread-safe: Start*, Stop and the accessors may be called from any thread.
#ifndef CCROUTE_BENCH_LOAD_GATEWAY_H_
#define CCROUTE_BENCH_LOAD_GATEWAY_H_

#include <grpcpp/channel.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bench/load/load_run.h"
#include "ccroute/v1/contacts.grpc.pb.h"

namespace ccroute::load {

struct GatewayOptions {
  // The calls are spread over these channels, round robin.
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  int queues = 1;
  // At most this many contacts in the run; 0: no bound.
  int64_t max_contacts = 0;
  uint64_t seed = 1;
  // Each call's deadline.
  std::chrono::milliseconds call_timeout{10000};
};

class Gateway {
 public:
  // Registers itself with `run` for the closed loop; `run` must outlive the
  // gateway.
  Gateway(GatewayOptions options, LoadRun& run);
  // Stops, and waits for the calls in flight.
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Poisson arrivals at `rate` per second until Stop or the bound.
  void StartPoisson(double rate);
  // `concurrency` contacts live at once until Stop or the bound.
  void StartClosedLoop(int concurrency);
  // No new contacts from now on; calls in flight carry on.
  void Stop();
  // Waits up to `timeout` for the calls in flight; false if some remain.
  bool WaitForCalls(std::chrono::milliseconds timeout);

  // Contacts whose CreateContact was started.
  int64_t issued() const;
  // True once the bound is reached.
  bool exhausted() const;

 private:
  struct Call;

  // Starts one CreateContact; false once stopped or at the bound.
  bool CreateOne(int64_t scheduled);
  void OnCallDone(Call* call, const grpc::Status& status);

  const GatewayOptions options_;
  LoadRun& run_;
  std::vector<std::unique_ptr<v1::Contacts::Stub>> stubs_;
  std::atomic<uint64_t> next_seq_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> closed_loop_{false};
  std::thread poisson_;
  std::mutex mu_;
  std::condition_variable calls_done_;
  int64_t in_flight_ = 0;
};

}  // namespace ccroute::load

#endif  // CCROUTE_BENCH_LOAD_GATEWAY_H_
