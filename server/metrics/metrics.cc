#include "server/metrics/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>

#include "absl/status/status.h"

namespace ccroute::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string ChannelLabel(core::Channel c) {
  return std::string(core::ChannelName(c));
}

prometheus::Family<prometheus::Counter>& Counter(prometheus::Registry& r,
                                                 const std::string& name,
                                                 const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

// Speed-to-answer buckets, in seconds: around common service-level targets.
const prometheus::Histogram::BucketBoundaries kAnswerDelayBuckets = {
    1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600};
// Engine work per command, in seconds: 1 us to 100 ms.
const prometheus::Histogram::BucketBoundaries kEngineBuckets = {
    1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 1e-2, 1e-1};

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void AddGauge(MetricFamily& f, double value,
              std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  f.metric.push_back(std::move(m));
}

void AddCounter(MetricFamily& f, double value,
                std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = value;
  f.metric.push_back(std::move(m));
}

std::string CodeName(grpc::StatusCode code) {
  // gRPC's codes are abseil's, by number and name.
  std::string name =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? "UNKNOWN" : name;
}

}  // namespace

// --- EngineMetrics
// ------------------------------------------------------------

EngineMetrics::EngineMetrics(prometheus::Registry& r)
    : created_(
          Counter(r, "ccroute_contacts_created_total",
                  "Contacts queued (or scheduled), by queue and channel.")),
      answered_(Counter(r, "ccroute_contacts_answered_total",
                        "Contacts accepted by an agent.")),
      abandoned_(Counter(r, "ccroute_contacts_abandoned_total",
                         "Contacts whose caller hung up while waiting.")),
      cancelled_(Counter(r, "ccroute_contacts_cancelled_total",
                         "Contacts withdrawn by the gateway.")),
      expired_(Counter(r, "ccroute_contacts_expired_total",
                       "Contacts that waited past the queue's maximum wait.")),
      completed_(Counter(r, "ccroute_contacts_completed_total",
                         "Contacts handled to the end of wrap-up.")),
      overflowed_(Counter(r, "ccroute_contacts_overflowed_total",
                          "Contacts moved out to an overflow queue, by the "
                          "queue they left.")),
      offers_(Counter(r, "ccroute_offers_total",
                      "Offers to agents by result: accepted, rejected, "
                      "timed_out, rescinded.")),
      answer_delay_(prometheus::BuildHistogram()
                        .Name("ccroute_answer_delay_seconds")
                        .Help("Speed to answer: arrival to acceptance.")
                        .Register(r)),
      command_seconds_(
          prometheus::BuildHistogram()
              .Name("ccroute_engine_command_seconds")
              .Help("Time the engine thread spent on one command or timer.")
              .Register(r)
              .Add({}, kEngineBuckets)),
      decision_seconds_(
          prometheus::BuildHistogram()
              .Name("ccroute_routing_decision_seconds")
              .Help("Time the engine thread spent on a command or timer that "
                    "offered a contact, including the routing decision.")
              .Register(r)
              .Add({}, kEngineBuckets)) {}

EngineMetrics::QueueChannel& EngineMetrics::For(const std::string& queue,
                                                core::Channel channel) {
  auto key = std::make_pair(queue, channel);
  auto it = children_.find(key);
  if (it != children_.end()) return it->second;
  prometheus::Labels l{{"queue", queue}, {"channel", ChannelLabel(channel)}};
  auto with = [&](const char* result) {
    prometheus::Labels r = l;
    r["result"] = result;
    return &offers_.Add(r);
  };
  QueueChannel c{
      &created_.Add(l),    &answered_.Add(l),
      &abandoned_.Add(l),  &cancelled_.Add(l),
      &expired_.Add(l),    &completed_.Add(l),
      &overflowed_.Add(l), with("accepted"),
      with("rejected"),    with("timed_out"),
      with("rescinded"),   &answer_delay_.Add(l, kAnswerDelayBuckets)};
  return children_.emplace(key, c).first->second;
}

void EngineMetrics::OnEvents(const std::vector<core::Event>& events,
                             core::Engine&, core::Time) {
  using core::EventKind;
  for (const core::Event& e : events) {
    if (e.contact_id.empty()) continue;
    if (e.created) For(e.queue, e.channel).created->Increment();
    switch (e.kind) {
      case EventKind::kContactOverflowed:
        For(e.from_queue, e.channel).overflowed->Increment();
        break;
      case EventKind::kContactOffered:
        offered_in_last_command_ = true;
        break;
      case EventKind::kContactAssigned: {
        QueueChannel& c = For(e.queue, e.channel);
        c.answered->Increment();
        c.offers_accepted->Increment();
        c.answer_delay->Observe(core::ToSeconds(e.wait));
        break;
      }
      case EventKind::kOfferRejected:
        For(e.queue, e.channel).offers_rejected->Increment();
        break;
      case EventKind::kOfferTimedOut:
        For(e.queue, e.channel).offers_timed_out->Increment();
        break;
      case EventKind::kOfferRescinded:
        For(e.queue, e.channel).offers_rescinded->Increment();
        break;
      case EventKind::kContactEnded: {
        QueueChannel& c = For(e.queue, e.channel);
        switch (e.end_reason) {
          case core::EndReason::kAbandoned:
            c.abandoned->Increment();
            break;
          case core::EndReason::kCancelled:
            c.cancelled->Increment();
            break;
          case core::EndReason::kExpired:
            c.expired->Increment();
            break;
          case core::EndReason::kCompleted:
            c.completed->Increment();
            break;
          default:
            break;
        }
        break;
      }
      default:
        break;
    }
  }
}

void EngineMetrics::OnCommandDone(std::chrono::nanoseconds busy) {
  double seconds = std::chrono::duration<double>(busy).count();
  command_seconds_.Observe(seconds);
  if (offered_in_last_command_) decision_seconds_.Observe(seconds);
  offered_in_last_command_ = false;
}

// --- SnapshotCollector ------------------------------------------------------

std::optional<EngineSnapshot> TakeSnapshot(
    runtime::EngineRunner& runner, std::chrono::milliseconds timeout,
    std::function<void(EngineSnapshot&)> add_streams) {
  // Shared: the engine may answer after this call gave up waiting.
  auto promise = std::make_shared<std::promise<EngineSnapshot>>();
  std::future<EngineSnapshot> future = promise->get_future();
  bool posted = runner.Post(
      [promise, &runner, add_streams](core::Engine& engine, core::Time now) {
        EngineSnapshot s;
        s.queues = engine.GetAllQueueStats(now);
        for (const core::AgentStats& a : engine.GetAllAgentStats(now)) {
          switch (a.state) {
            case core::AgentState::kReady: {
              bool busy = !a.contacts.empty() || !a.offered_contact.empty();
              (busy ? s.agents_busy : s.agents_ready)++;
              break;
            }
            case core::AgentState::kNotReady:
              s.agents_not_ready++;
              break;
            case core::AgentState::kOffline:
              s.agents_offline++;
              break;
          }
        }
        s.commands_pending = runner.pending_commands();
        if (add_streams) add_streams(s);
        promise->set_value(std::move(s));
      });
  if (!posted || future.wait_for(timeout) != std::future_status::ready) {
    return std::nullopt;
  }
  return future.get();
}

std::vector<MetricFamily> SnapshotCollector::Collect() const {
  std::vector<MetricFamily> out;
  std::optional<EngineSnapshot> s = take_();
  MetricFamily up =
      Family("ccroute_up", "1 when the engine answered the scrape in time.",
             MetricType::Gauge);
  AddGauge(up, s ? 1 : 0);
  out.push_back(std::move(up));
  if (!s) return out;

  auto gauge = [&](const char* name, const char* help) {
    return Family(name, help, MetricType::Gauge);
  };
  MetricFamily waiting = gauge("ccroute_queue_contacts_waiting",
                               "Contacts queued or offered, not yet answered.");
  MetricFamily scheduled = gauge("ccroute_queue_contacts_scheduled",
                                 "Callbacks waiting for their due time.");
  MetricFamily oldest = gauge("ccroute_queue_oldest_wait_seconds",
                              "Age of the longest-waiting contact; 0 if none.");
  MetricFamily sl = gauge("ccroute_queue_service_level_ratio",
                          "Answered within target / (answered + abandoned "
                          "after target + expired), over the rolling window.");
  MetricFamily target = gauge("ccroute_queue_service_level_target_seconds",
                              "The queue's service-level target time.");
  MetricFamily goal = gauge("ccroute_queue_service_level_goal_ratio",
                            "The queue's service-level goal.");
  MetricFamily ewt = gauge("ccroute_queue_estimated_wait_seconds",
                           "Estimated wait for a new contact (position x "
                           "average handle time / ready capacity).");
  MetricFamily ready = gauge("ccroute_queue_agents_ready",
                             "READY agents meeting the queue's requirements.");
  MetricFamily asa = gauge("ccroute_queue_average_speed_of_answer_seconds",
                           "Average speed of answer over the rolling window.");
  for (const core::QueueStats& q : s->queues) {
    std::vector<ClientMetric::Label> l{{"queue", q.name}};
    AddGauge(waiting, q.waiting, l);
    AddGauge(scheduled, q.scheduled, l);
    AddGauge(oldest, core::ToSeconds(q.oldest_wait), l);
    if (q.service_level) AddGauge(sl, *q.service_level, l);
    AddGauge(target, core::ToSeconds(q.service_level_target), l);
    AddGauge(goal, q.service_level_goal, l);
    if (q.estimated_wait) AddGauge(ewt, core::ToSeconds(*q.estimated_wait), l);
    AddGauge(ready, q.agents_ready, l);
    if (q.average_speed_of_answer) {
      AddGauge(asa, core::ToSeconds(*q.average_speed_of_answer), l);
    }
  }
  for (auto* f : {&waiting, &scheduled, &oldest, &sl, &target, &goal, &ewt,
                  &ready, &asa}) {
    out.push_back(std::move(*f));
  }

  MetricFamily agents =
      gauge("ccroute_agents", "Agents by state; busy: READY with work.");
  AddGauge(agents, s->agents_ready, {{"state", "ready"}});
  AddGauge(agents, s->agents_busy, {{"state", "busy"}});
  AddGauge(agents, s->agents_not_ready, {{"state", "not_ready"}});
  AddGauge(agents, s->agents_offline, {{"state", "offline"}});
  out.push_back(std::move(agents));

  MetricFamily pending = gauge("ccroute_engine_commands_pending",
                               "Commands waiting for the engine thread.");
  AddGauge(pending, static_cast<double>(s->commands_pending));
  out.push_back(std::move(pending));
  MetricFamily streams = gauge("ccroute_streams_open", "Server streams open.");
  AddGauge(streams, static_cast<double>(s->agent_sessions),
           {{"kind", "agent"}});
  AddGauge(streams, static_cast<double>(s->watchers), {{"kind", "watch"}});
  AddGauge(streams, static_cast<double>(s->event_subscribers),
           {{"kind", "events"}});
  out.push_back(std::move(streams));
  MetricFamily dropped =
      Family("ccroute_events_dropped_total",
             "Events not delivered to event subscribers that were behind.",
             MetricType::Counter);
  AddCounter(dropped, static_cast<double>(s->events_dropped));
  out.push_back(std::move(dropped));
  return out;
}

// --- ProcessCollector -------------------------------------------------------

ProcessCollector::ProcessCollector()
    : start_time_seconds_(
          std::chrono::duration<double>(
              std::chrono::system_clock::now().time_since_epoch())
              .count()) {}

std::vector<MetricFamily> ProcessCollector::Collect() const {
  std::vector<MetricFamily> out;
  std::ifstream stat("/proc/self/stat");
  std::string line;
  std::getline(stat, line);
  // Fields after the command name, which may hold spaces: from ") ".
  auto close = line.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(line.substr(close + 2));
    std::vector<std::string> f;
    for (std::string x; fields >> x;) f.push_back(x);
    // f[0] is field 3 (state): utime is field 14, stime 15, vsize 23, rss 24.
    if (f.size() > 21) {
      double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      MetricFamily c = Family("process_cpu_seconds_total",
                              "User and system CPU time.", MetricType::Counter);
      AddCounter(c, cpu);
      out.push_back(std::move(c));
      MetricFamily v = Family("process_virtual_memory_bytes",
                              "Virtual memory size.", MetricType::Gauge);
      AddGauge(v, std::stod(f[20]));
      out.push_back(std::move(v));
      MetricFamily r = Family("process_resident_memory_bytes",
                              "Resident memory size.", MetricType::Gauge);
      AddGauge(r,
               std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE)));
      out.push_back(std::move(r));
    }
  }
  int fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) fds++;
    closedir(dir);
    fds -= 3;  // ".", ".." and the directory's own descriptor
  }
  MetricFamily open =
      Family("process_open_fds", "Open file descriptors.", MetricType::Gauge);
  AddGauge(open, fds);
  out.push_back(std::move(open));
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    MetricFamily max =
        Family("process_max_fds", "Limit on open file descriptors.",
               MetricType::Gauge);
    AddGauge(max, static_cast<double>(limit.rlim_cur));
    out.push_back(std::move(max));
  }
  MetricFamily start =
      Family("process_start_time_seconds", "Start time since the Unix epoch.",
             MetricType::Gauge);
  AddGauge(start, start_time_seconds_);
  out.push_back(std::move(start));
  MetricFamily build =
      Family("ccroute_build_info", "Always 1; labels give the build.",
             MetricType::Gauge);
  AddGauge(build, 1, {{"version", CCROUTE_VERSION}});
  out.push_back(std::move(build));
  return out;
}

// --- gRPC
// ---------------------------------------------------------------------

class GrpcMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  GrpcMetricsInterceptor(GrpcMetricsInterceptorFactory& factory,
                         grpc::experimental::ServerRpcInfo* info)
      : factory_(factory), method_(info->method()) {
    if (info->type() != grpc::experimental::ServerRpcInfo::Type::UNARY) {
      stream_ = &factory_.streams_.Add({{"method", method_}});
      stream_->Increment();
    }
  }
  ~GrpcMetricsInterceptor() override {
    if (stream_ != nullptr) stream_->Decrement();
  }

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      factory_.requests_
          .Add({{"method", method_},
                {"code", CodeName(methods->GetSendStatus().error_code())}})
          .Increment();
    }
    methods->Proceed();
  }

 private:
  GrpcMetricsInterceptorFactory& factory_;
  std::string method_;
  prometheus::Gauge* stream_ = nullptr;
};

GrpcMetricsInterceptorFactory::GrpcMetricsInterceptorFactory(
    prometheus::Registry& r)
    : requests_(Counter(r, "ccroute_grpc_requests_total",
                        "gRPC calls finished, by method and status code.")),
      streams_(prometheus::BuildGauge()
                   .Name("ccroute_grpc_streams_in_flight")
                   .Help("Streaming gRPC calls open, by method.")
                   .Register(r)) {}

grpc::experimental::Interceptor*
GrpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new GrpcMetricsInterceptor(*this, info);
}

// --- MetricsEndpoint --------------------------------------------------------

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& address) {
  auto endpoint = std::make_unique<MetricsEndpoint>();
  try {
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(address);
  } catch (const std::exception& e) {
    return absl::UnavailableError("cannot serve metrics on '" + address +
                                  "': " + e.what());
  }
  endpoint->registry_ = std::make_shared<prometheus::Registry>();
  endpoint->exposer_->RegisterCollectable(endpoint->registry_);
  return endpoint;
}

void MetricsEndpoint::Register(
    std::weak_ptr<prometheus::Collectable> collectable) {
  exposer_->RegisterCollectable(collectable);
}

int MetricsEndpoint::port() const {
  auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace ccroute::metrics
