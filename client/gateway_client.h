// The gateway side of ccroute: what a telephony gateway or chat front end
// does with contacts (create, follow, update, cancel, schedule a callback)
// over the Contacts service, with a deadline on every call and automatic
// retries where a retry is safe.
#ifndef CCROUTE_CLIENT_GATEWAY_CLIENT_H_
#define CCROUTE_CLIENT_GATEWAY_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "ccroute/v1/contacts.grpc.pb.h"
#include "client/backoff.h"

namespace ccroute::client {

struct GatewayOptions {
  // The deadline of every unary call attempt.
  std::chrono::milliseconds deadline{5000};
  // Attempts of a retried call, the first included (at least 1).
  int max_attempts = 5;
  // The waits between attempts.
  Backoff backoff;
  // Called on the calling thread before each retry, with the method name
  // ("CreateContact", ...), the 1-based attempt that failed and its status.
  // For logging; may be empty.
  std::function<void(const std::string& method, int attempt,
                     const grpc::Status& status)>
      on_retry;
};

// One WatchContact stream, returned by GatewayClient::WatchContact. Its
// callbacks run on gRPC's threads: they must not block, and must not
// destroy the ContactWatch (Cancel is fine).
//
// Thread-safe.
class ContactWatch {
 public:
  // Called with each update: the snapshot first, then every change.
  using UpdateCallback = std::function<void(const v1::ContactUpdate&)>;
  // Called once, last, with how the stream ended: OK after the contact
  // ended, NOT_FOUND for an unknown contact, CANCELLED after Cancel,
  // UNAVAILABLE when the server went away (watch again to resume: the new
  // stream starts with a snapshot).
  using DoneCallback = std::function<void(const grpc::Status&)>;

  // Cancels the stream if it is still open and waits until the done
  // callback has returned.
  ~ContactWatch();
  ContactWatch(const ContactWatch&) = delete;
  ContactWatch& operator=(const ContactWatch&) = delete;

  // Ends the stream; returns at once. The done callback follows with
  // CANCELLED (or with the status the stream had already ended with).
  void Cancel();
  // Waits up to `timeout` for the stream to end; true if it has (the done
  // callback has returned).
  bool WaitDone(std::chrono::milliseconds timeout);
  // How the stream ended; OK while it is open.
  grpc::Status status();

 private:
  friend class GatewayClient;
  class Reactor;
  ContactWatch() = default;
  void Finished(const grpc::Status& status);

  std::mutex mu_;
  std::condition_variable done_cv_;
  bool done_ = false;
  grpc::Status status_;
  std::unique_ptr<Reactor> reactor_;
};

// A gateway's view of the Contacts service.
//
// Every unary call has a deadline (GatewayOptions::deadline). CreateContact,
// ScheduleCallback, GetContact, UpdateContact and CancelContact are retried
// on UNAVAILABLE and DEADLINE_EXCEEDED, with backoff, up to max_attempts:
// creation is idempotent on the contact id, so a retry of a create whose
// answer was lost returns the same contact instead of queuing a second one.
// Other errors are returned at once.
//
// Thread-safe: one GatewayClient may serve many threads. The retrying calls
// block the calling thread for at most about
// max_attempts x (deadline + backoff.max).
class GatewayClient {
 public:
  explicit GatewayClient(std::shared_ptr<grpc::ChannelInterface> channel,
                         GatewayOptions options = {});

  // Queues a contact (Contacts.CreateContact). On OK `*contact` (non-null,
  // owned by the caller) holds the contact; contact->created() is false
  // when one with that id already existed, which includes a contact created
  // by an earlier attempt of this same call whose answer was lost. An empty
  // contact_id is refused with INVALID_ARGUMENT without calling the server:
  // without an id a retry could queue the caller twice.
  grpc::Status CreateContact(const v1::CreateContactRequest& request,
                             v1::Contact* contact);
  // A callback contact routed from request.not_before on. Retried like
  // CreateContact, and refused the same way without a contact_id.
  grpc::Status ScheduleCallback(const v1::ScheduleCallbackRequest& request,
                                v1::Contact* contact);
  // The contact now; NOT_FOUND for an unknown id (ended contacts are
  // remembered for the server's idempotency retention, 10 minutes by
  // default).
  grpc::Status GetContact(const std::string& contact_id, v1::Contact* contact);
  // Ends a waiting, scheduled or offered contact as `reason`
  // (END_REASON_ABANDONED when the caller hung up, END_REASON_CANCELLED
  // when the gateway withdrew it). FAILED_PRECONDITION once an agent has
  // accepted it. A retry that finds the contact already ended for this
  // reason counts as success: the earlier attempt's answer was lost.
  grpc::Status CancelContact(const std::string& contact_id,
                             v1::EndReason reason, v1::Contact* contact);
  // Changes the priority or requirements of a contact not yet offered.
  // Setting values is idempotent, so it is retried too.
  grpc::Status UpdateContact(const v1::UpdateContactRequest& request,
                             v1::Contact* contact);

  // Follows a contact: `on_update` gets its snapshot and then each change,
  // and `on_done` how the stream ended (see ContactWatch). The stream has
  // no deadline: it lasts until the contact ends or it is cancelled.
  // Never returns null; a failure to open the stream arrives in `on_done`.
  std::unique_ptr<ContactWatch> WatchContact(
      const std::string& contact_id, ContactWatch::UpdateCallback on_update,
      ContactWatch::DoneCallback on_done = nullptr);

 private:
  // Runs `call(context)` with a fresh deadline per attempt, retrying as
  // described above; returns the last attempt's status.
  grpc::Status Retry(const std::string& method,
                     const std::function<grpc::Status(grpc::ClientContext&,
                                                      int attempt)>& call);
  std::chrono::milliseconds NextDelay(int retry);

  std::unique_ptr<v1::Contacts::Stub> stub_;
  const GatewayOptions options_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

}  // namespace ccroute::client

#endif  // CCROUTE_CLIENT_GATEWAY_CLIENT_H_
