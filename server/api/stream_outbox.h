// The outbound side of one server stream: a bounded queue with one write in
// flight, shared between the stream's reactor and the engine thread that
// produces its messages. It calls the reactor's StartWrite and Finish itself,
// so that Finish happens exactly once, never while a write is in flight, and
// nothing touches the reactor after Finish.
//
// Thread-safe: every method may be called from any thread. Engine code holds
// a shared_ptr to the outbox, never a pointer to the reactor.
#ifndef CCROUTE_SERVER_API_STREAM_OUTBOX_H_
#define CCROUTE_SERVER_API_STREAM_OUTBOX_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

namespace ccroute::api {

template <typename Message>
class StreamOutbox {
 public:
  enum class PushResult { kQueued, kConflated, kClosed, kFull };

  // `start_write` and `finish` are the reactor's StartWrite and Finish, and
  // `cancel` its call's TryCancel (may be empty); they are called without
  // the outbox's lock held. `limit` bounds the messages queued and not yet
  // written.
  StreamOutbox(size_t limit, std::function<void(const Message*)> start_write,
               std::function<void(const grpc::Status&)> finish,
               std::function<void()> cancel = {})
      : limit_(limit),
        start_write_(std::move(start_write)),
        finish_(std::move(finish)),
        cancel_(std::move(cancel)) {}

  // Queues a message. With a non-zero `conflate_tag`, a queued message with
  // the same tag that is not yet being written is replaced (a newer snapshot
  // makes an older one useless). kFull: over the limit, nothing queued;
  // kClosed: the stream is closing or gone. A message passed by reference
  // is copied only when queued: one event fanned out to many streams costs
  // nothing for those that are full or closed.
  PushResult Push(Message&& message, int conflate_tag = 0) {
    return PushImpl(std::move(message), conflate_tag);
  }
  PushResult Push(const Message& message, int conflate_tag = 0) {
    return PushImpl(message, conflate_tag);
  }

  // Finishes the stream with `status` once the queued messages are written.
  void Close(const grpc::Status& status) { CloseImpl(status, false); }
  // Drops the queued messages and finishes with `status` as soon as no
  // write is in flight. With the queue at its limit, the peer has stopped
  // reading and its write in flight may wait for flow control forever: the
  // call is cancelled, which ends that write, so that the stream finishes
  // (the peer sees CANCELLED) and its slot and buffers are freed.
  void CloseNow(const grpc::Status& status) { CloseImpl(status, true); }

  // The reactor's OnWriteDone.
  void OnWriteDone(bool ok) {
    const Message* write = nullptr;
    bool finish = false;
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.pop_front();
      if (!ok) {
        // The peer is gone: nothing more can be written.
        queue_.clear();
        if (!closing_) {
          closing_ = true;
          status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                 "the stream broke while writing");
        }
      }
      if (!queue_.empty()) {
        write = &queue_.front().message;
      } else {
        writing_ = false;
        finish = closing_ && !finished_ && !cancelling_;
        if (finish) {
          finished_ = true;
          status = status_;
        }
      }
    }
    if (write != nullptr) start_write_(write);
    if (finish) finish_(status);
  }

  bool closed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return closing_ || finished_;
  }
  size_t queued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
  }

 private:
  struct Entry {
    int tag;
    Message message;
  };

  template <typename M>
  PushResult PushImpl(M&& message, int conflate_tag) {
    const Message* write = nullptr;
    PushResult result;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closing_ || finished_) return PushResult::kClosed;
      if (conflate_tag != 0 && !queue_.empty() &&
          queue_.back().tag == conflate_tag &&
          !(writing_ && queue_.size() == 1)) {
        queue_.back().message = std::forward<M>(message);
        return PushResult::kConflated;
      }
      if (queue_.size() >= limit_) return PushResult::kFull;
      queue_.push_back({conflate_tag, std::forward<M>(message)});
      result = PushResult::kQueued;
      if (!writing_) {
        writing_ = true;
        write = &queue_.front().message;
      }
    }
    if (write != nullptr) start_write_(write);
    return result;
  }

  void CloseImpl(const grpc::Status& status, bool discard) {
    bool finish = false;
    bool cancel = false;
    grpc::Status final_status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finished_) return;
      if (!closing_) {
        closing_ = true;
        status_ = status;
      }
      if (discard && writing_ && queue_.size() >= limit_ && cancel_ &&
          !cancelled_) {
        cancel = cancelling_ = cancelled_ = true;
      }
      if (discard && queue_.size() > (writing_ ? 1u : 0u)) {
        // Keep only the message being written.
        queue_.resize(writing_ ? 1 : 0);
      }
      if (!writing_ && !cancelling_) {
        finished_ = true;
        finish = true;
        final_status = status_;
      }
    }
    if (finish) finish_(final_status);
    if (cancel) Cancel();
  }

  // Cancels the call. Finish waits until the cancel returned: until
  // Finish, gRPC keeps the call (and the context cancel_ uses) alive.
  void Cancel() {
    cancel_();
    bool finish = false;
    grpc::Status final_status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelling_ = false;
      if (!writing_ && !finished_) {
        finished_ = true;
        finish = true;
        final_status = status_;
      }
    }
    if (finish) finish_(final_status);
  }

  const size_t limit_;
  const std::function<void(const Message*)> start_write_;
  const std::function<void(const grpc::Status&)> finish_;
  const std::function<void()> cancel_;
  mutable std::mutex mu_;
  std::deque<Entry> queue_;
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  bool cancelling_ = false;  // cancel_ is running: Finish must wait
  bool cancelled_ = false;
  grpc::Status status_;
};

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_STREAM_OUTBOX_H_
