#include "bench/load/gateway.h"

#include <grpcpp/client_context.h>

#include <algorithm>
#include <cmath>

#include "bench/load/center.h"

namespace ccroute::load {

struct Gateway::Call {
  ContactRecord* record = nullptr;
  grpc::ClientContext context;
  v1::CreateContactRequest request;
  v1::Contact response;
};

Gateway::Gateway(GatewayOptions options, LoadRun& run)
    : options_(std::move(options)), run_(run) {
  for (const auto& channel : options_.channels) {
    stubs_.push_back(v1::Contacts::NewStub(channel));
  }
  run_.SetOnContactDone([this] {
    if (closed_loop_.load(std::memory_order_relaxed)) CreateOne(NowNs());
  });
}

Gateway::~Gateway() {
  Stop();
  WaitForCalls(options_.call_timeout + std::chrono::seconds(5));
}

void Gateway::StartPoisson(double rate) {
  poisson_ = std::thread([this, rate] {
    Random random(options_.seed);
    const double mean_gap_ns = 1e9 / rate;
    int64_t next = NowNs();
    while (!stopped_.load(std::memory_order_relaxed)) {
      int64_t now = NowNs();
      if (next > now) {
        // Short sleeps, so that Stop is seen within a millisecond.
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(std::min<int64_t>(next - now, 1000000)));
        continue;
      }
      // Behind schedule (the machine was busy), the due arrivals go out at
      // once, each with its scheduled time: the lag is reported.
      if (!CreateOne(next)) break;
      next += static_cast<int64_t>(-mean_gap_ns * std::log(random.Uniform()));
    }
  });
}

void Gateway::StartClosedLoop(int concurrency) {
  closed_loop_.store(true);
  for (int i = 0; i < concurrency; ++i) {
    if (!CreateOne(NowNs())) break;
  }
}

void Gateway::Stop() {
  stopped_.store(true);
  closed_loop_.store(false);
  if (poisson_.joinable()) poisson_.join();
}

bool Gateway::WaitForCalls(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return calls_done_.wait_for(lock, timeout, [&] { return in_flight_ == 0; });
}

int64_t Gateway::issued() const {
  auto n = static_cast<int64_t>(next_seq_.load());
  return options_.max_contacts > 0 ? std::min(n, options_.max_contacts) : n;
}

bool Gateway::exhausted() const {
  return options_.max_contacts > 0 && issued() >= options_.max_contacts;
}

bool Gateway::CreateOne(int64_t scheduled) {
  if (stopped_.load(std::memory_order_relaxed)) return false;
  uint64_t seq = next_seq_.load();
  do {
    if (options_.max_contacts > 0 &&
        seq >= static_cast<uint64_t>(options_.max_contacts)) {
      return false;
    }
  } while (!next_seq_.compare_exchange_weak(seq, seq + 1));

  auto* call = new Call;
  call->record = &run_.contacts().Allocate(seq);
  call->request.set_contact_id(run_.ContactId(seq));
  // Stateless per contact, so that any thread may draw.
  Random pick(options_.seed ^ (seq * 0x9e3779b97f4a7c15ULL));
  call->request.set_queue(QueueName(
      static_cast<int>(pick.Next() % static_cast<uint64_t>(options_.queues))));
  call->request.set_channel(v1::CHANNEL_VOICE);
  call->context.set_deadline(std::chrono::system_clock::now() +
                             options_.call_timeout);
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_++;
  }
  v1::Contacts::Stub& stub = *stubs_[seq % stubs_.size()];
  call->record->scheduled.store(scheduled, std::memory_order_relaxed);
  call->record->create_sent.store(NowNs(), std::memory_order_relaxed);
  stub.async()->CreateContact(
      &call->context, &call->request, &call->response,
      [this, call](grpc::Status status) { OnCallDone(call, status); });
  return true;
}

void Gateway::OnCallDone(Call* call, const grpc::Status& status) {
  if (status.ok()) {
    call->record->create_done.store(NowNs(), std::memory_order_relaxed);
    if (!call->response.created()) {
      run_.not_created().fetch_add(1, std::memory_order_relaxed);
    }
    run_.OnCreated();
  } else {
    run_.OnCreateFailed(*call->record, "Contacts.CreateContact", status);
  }
  delete call;
  bool idle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle = --in_flight_ == 0;
  }
  if (idle) calls_done_.notify_all();
}

}  // namespace ccroute::load
