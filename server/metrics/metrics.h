// Prometheus metrics for ccroute (prefix ccroute_). Labels are
// low-cardinality: queue, channel, result, state, gRPC method and code;
// never contact, customer or agent ids.
//
// - EngineMetrics turns engine events into counters and histograms on the
//   engine thread (atomics; no locks shared with the engine).
// - SnapshotCollector builds the queue and agent gauges at scrape time from
//   one snapshot taken on the engine thread.
// - ProcessCollector reads /proc/self: CPU, memory, file descriptors.
// - GrpcMetricsInterceptorFactory counts requests by method and status code
//   and the streams in flight.
// - MetricsEndpoint serves /metrics over HTTP.
#ifndef CCROUTE_SERVER_METRICS_METRICS_H_
#define CCROUTE_SERVER_METRICS_METRICS_H_

#include <grpcpp/support/server_interceptor.h>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/core/engine.h"
#include "server/runtime/engine_runner.h"

namespace ccroute::metrics {

// Engine-thread observer feeding the event-driven metrics.
// Thread affinity: OnEvents / OnCommandDone on the engine thread only.
class EngineMetrics : public runtime::EngineObserver {
 public:
  // Registers the metric families in `registry`, which must outlive this.
  explicit EngineMetrics(prometheus::Registry& registry);

  void OnEvents(const std::vector<core::Event>& events, core::Engine& engine,
                core::Time now) override;
  void OnCommandDone(std::chrono::nanoseconds busy) override;

 private:
  // The children for one (queue, channel), made on its first event.
  struct QueueChannel {
    prometheus::Counter* created;
    prometheus::Counter* answered;
    prometheus::Counter* abandoned;
    prometheus::Counter* cancelled;
    prometheus::Counter* expired;
    prometheus::Counter* completed;
    prometheus::Counter* overflowed;
    prometheus::Counter* offers_accepted;
    prometheus::Counter* offers_rejected;
    prometheus::Counter* offers_timed_out;
    prometheus::Counter* offers_rescinded;
    prometheus::Histogram* answer_delay;
  };
  QueueChannel& For(const std::string& queue, core::Channel channel);

  prometheus::Family<prometheus::Counter>& created_;
  prometheus::Family<prometheus::Counter>& answered_;
  prometheus::Family<prometheus::Counter>& abandoned_;
  prometheus::Family<prometheus::Counter>& cancelled_;
  prometheus::Family<prometheus::Counter>& expired_;
  prometheus::Family<prometheus::Counter>& completed_;
  prometheus::Family<prometheus::Counter>& overflowed_;
  prometheus::Family<prometheus::Counter>& offers_;
  prometheus::Family<prometheus::Histogram>& answer_delay_;
  prometheus::Histogram& command_seconds_;
  prometheus::Histogram& decision_seconds_;
  std::map<std::pair<std::string, core::Channel>, QueueChannel> children_;
  bool offered_in_last_command_ = false;
};

// What the scrape-time gauges need, copied on the engine thread.
struct EngineSnapshot {
  std::vector<core::QueueStats> queues;
  // READY, NOT_READY, OFFLINE counts, and READY agents with work.
  int agents_ready = 0;
  int agents_busy = 0;
  int agents_not_ready = 0;
  int agents_offline = 0;
  int64_t commands_pending = 0;
  int64_t agent_sessions = 0;
  int64_t watchers = 0;
  int64_t event_subscribers = 0;
  int64_t events_dropped = 0;
};

// Takes an EngineSnapshot on the engine thread; `add_streams` (run there
// too) fills in the stream counts. nullopt if the engine does not answer
// within `timeout` or is stopping. Any thread but the engine thread.
std::optional<EngineSnapshot> TakeSnapshot(
    runtime::EngineRunner& runner, std::chrono::milliseconds timeout,
    std::function<void(EngineSnapshot&)> add_streams);

// Builds the gauges from a fresh snapshot at each scrape. Thread-safe.
class SnapshotCollector : public prometheus::Collectable {
 public:
  // `take` returns the snapshot, or nullopt when the engine did not answer
  // in time (the scrape then carries only ccroute_up 0).
  explicit SnapshotCollector(
      std::function<std::optional<EngineSnapshot>()> take)
      : take_(std::move(take)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::function<std::optional<EngineSnapshot>()> take_;
};

// Process metrics from /proc/self (Linux), and ccroute_build_info.
// Thread-safe.
class ProcessCollector : public prometheus::Collectable {
 public:
  ProcessCollector();
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  double start_time_seconds_;
};

// Counts gRPC requests by method and code, and streams in flight.
// Thread-safe.
class GrpcMetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GrpcMetricsInterceptorFactory(prometheus::Registry& registry);
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  friend class GrpcMetricsInterceptor;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Gauge>& streams_;
};

// The /metrics HTTP endpoint. Thread-safe.
class MetricsEndpoint {
 public:
  // Listens on `address` ("host:port"; port 0 picks one). UNAVAILABLE if it
  // cannot bind.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& address);
  prometheus::Registry& registry() { return *registry_; }
  void Register(std::weak_ptr<prometheus::Collectable> collectable);
  int port() const;

 private:
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace ccroute::metrics

#endif  // CCROUTE_SERVER_METRICS_METRICS_H_
