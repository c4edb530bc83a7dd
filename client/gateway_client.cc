#include "client/gateway_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/client_callback.h>

#include <algorithm>
#include <thread>
#include <utility>

namespace ccroute::client {
namespace {

bool Retryable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

grpc::Status MissingId(const std::string& method) {
  return grpc::Status(
      grpc::StatusCode::INVALID_ARGUMENT,
      method + ": contact_id is required (it makes retries safe)");
}

}  // namespace

// --- ContactWatch ------------------------------------------------------------

class ContactWatch::Reactor final
    : public grpc::ClientReadReactor<v1::ContactUpdate> {
 public:
  Reactor(ContactWatch& owner, std::string contact_id, UpdateCallback on_update,
          DoneCallback on_done)
      : owner_(owner),
        on_update_(std::move(on_update)),
        on_done_(std::move(on_done)) {
    request_.set_contact_id(std::move(contact_id));
  }

  void Start(v1::Contacts::Stub& stub) {
    stub.async()->WatchContact(&context_, &request_, this);
    StartRead(&update_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    // Not ok: the stream is over; OnDone brings the status.
    if (!ok) return;
    if (on_update_) on_update_(update_);
    StartRead(&update_);
  }
  void OnDone(const grpc::Status& status) override {
    if (on_done_) on_done_(status);
    owner_.Finished(status);
  }

 private:
  ContactWatch& owner_;
  UpdateCallback on_update_;
  DoneCallback on_done_;
  grpc::ClientContext context_;
  v1::WatchContactRequest request_;
  v1::ContactUpdate update_;
};

ContactWatch::~ContactWatch() {
  if (reactor_ == nullptr) return;
  reactor_->Cancel();
  std::unique_lock<std::mutex> lock(mu_);
  // OnDone always follows a cancel promptly: gRPC guarantees it.
  done_cv_.wait(lock, [this] { return done_; });
}

void ContactWatch::Cancel() { reactor_->Cancel(); }

bool ContactWatch::WaitDone(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return done_cv_.wait_for(lock, timeout, [this] { return done_; });
}

grpc::Status ContactWatch::status() {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

void ContactWatch::Finished(const grpc::Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  status_ = status;
  done_ = true;
  done_cv_.notify_all();
}

// --- GatewayClient -----------------------------------------------------------

GatewayClient::GatewayClient(std::shared_ptr<grpc::ChannelInterface> channel,
                             GatewayOptions options)
    : stub_(v1::Contacts::NewStub(std::move(channel))),
      options_(std::move(options)),
      rng_(std::random_device()()) {}

std::chrono::milliseconds GatewayClient::NextDelay(int retry) {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return BackoffDelay(options_.backoff, retry, rng_);
}

grpc::Status GatewayClient::Retry(
    const std::string& method,
    const std::function<grpc::Status(grpc::ClientContext&, int attempt)>&
        call) {
  const int attempts = std::max(1, options_.max_attempts);
  grpc::Status status;
  for (int attempt = 1;; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + options_.deadline);
    status = call(context, attempt);
    if (!Retryable(status) || attempt >= attempts) return status;
    if (options_.on_retry) options_.on_retry(method, attempt, status);
    std::this_thread::sleep_for(NextDelay(attempt - 1));
  }
}

grpc::Status GatewayClient::CreateContact(
    const v1::CreateContactRequest& request, v1::Contact* contact) {
  if (request.contact_id().empty()) return MissingId("CreateContact");
  return Retry("CreateContact", [&](grpc::ClientContext& context, int) {
    return stub_->CreateContact(&context, request, contact);
  });
}

grpc::Status GatewayClient::ScheduleCallback(
    const v1::ScheduleCallbackRequest& request, v1::Contact* contact) {
  if (request.contact_id().empty()) return MissingId("ScheduleCallback");
  return Retry("ScheduleCallback", [&](grpc::ClientContext& context, int) {
    return stub_->ScheduleCallback(&context, request, contact);
  });
}

grpc::Status GatewayClient::GetContact(const std::string& contact_id,
                                       v1::Contact* contact) {
  v1::GetContactRequest request;
  request.set_contact_id(contact_id);
  return Retry("GetContact", [&](grpc::ClientContext& context, int) {
    return stub_->GetContact(&context, request, contact);
  });
}

grpc::Status GatewayClient::CancelContact(const std::string& contact_id,
                                          v1::EndReason reason,
                                          v1::Contact* contact) {
  v1::CancelContactRequest request;
  request.set_contact_id(contact_id);
  request.set_reason(reason);
  // What the server records when the request leaves the reason out.
  const v1::EndReason recorded =
      reason == v1::END_REASON_UNSPECIFIED ? v1::END_REASON_ABANDONED : reason;
  return Retry("CancelContact", [&](grpc::ClientContext& context, int attempt) {
    grpc::Status status = stub_->CancelContact(&context, request, contact);
    if (attempt == 1 ||
        status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
      return status;
    }
    // The server refuses to end an ended contact. After a lost answer that
    // is our own earlier attempt: look, within this attempt's deadline.
    grpc::ClientContext check;
    check.set_deadline(context.deadline());
    v1::GetContactRequest get;
    get.set_contact_id(contact_id);
    v1::Contact now;
    if (stub_->GetContact(&check, get, &now).ok() &&
        now.state() == v1::CONTACT_STATE_ENDED &&
        now.end_reason() == recorded) {
      *contact = now;
      return grpc::Status::OK;
    }
    return status;
  });
}

grpc::Status GatewayClient::UpdateContact(
    const v1::UpdateContactRequest& request, v1::Contact* contact) {
  return Retry("UpdateContact", [&](grpc::ClientContext& context, int) {
    return stub_->UpdateContact(&context, request, contact);
  });
}

std::unique_ptr<ContactWatch> GatewayClient::WatchContact(
    const std::string& contact_id, ContactWatch::UpdateCallback on_update,
    ContactWatch::DoneCallback on_done) {
  std::unique_ptr<ContactWatch> watch(new ContactWatch());
  watch->reactor_ = std::make_unique<ContactWatch::Reactor>(
      *watch, contact_id, std::move(on_update), std::move(on_done));
  watch->reactor_->Start(*stub_);
  return watch;
}

}  // namespace ccroute::client
