#include "bench/load/load_run.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"

namespace ccroute::load {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool Delay::ParseShape(std::string_view name, Shape& out) {
  if (name == "const") {
    out = Shape::kConstant;
  } else if (name == "exp") {
    out = Shape::kExponential;
  } else if (name == "uniform") {
    out = Shape::kUniform;
  } else {
    return false;
  }
  return true;
}

const char* Delay::ShapeName(Shape shape) {
  switch (shape) {
    case Shape::kConstant:
      return "const";
    case Shape::kExponential:
      return "exp";
    case Shape::kUniform:
      return "uniform";
  }
  return "?";
}

int64_t Delay::DrawNs(double u) const {
  double ms = mean_ms;
  switch (shape) {
    case Shape::kConstant:
      break;
    case Shape::kExponential:
      ms = -mean_ms * std::log(u);
      break;
    case Shape::kUniform:
      ms = 2 * mean_ms * u;
      break;
  }
  return static_cast<int64_t>(ms * 1e6);
}

uint64_t Random::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Random::Uniform() {
  // 53 random bits, shifted off zero.
  return (static_cast<double>(Next() >> 11) + 0.5) * 0x1.0p-53;
}

ContactLog::ContactLog()
    : segments_(new std::atomic<ContactRecord*>[kMaxSegments]) {
  for (size_t i = 0; i < kMaxSegments; ++i) segments_[i].store(nullptr);
}

ContactLog::~ContactLog() {
  for (size_t i = 0; i < kMaxSegments; ++i) delete[] segments_[i].load();
}

ContactRecord& ContactLog::Allocate(uint64_t seq) {
  size_t segment = seq >> kSegmentBits;
  if (segment >= kMaxSegments) {
    std::fprintf(stderr, "ccroute-load: more than %zu contacts\n",
                 kMaxSegments * kSegmentSize);
    std::abort();
  }
  ContactRecord* records = segments_[segment].load(std::memory_order_acquire);
  if (records == nullptr) {
    std::lock_guard<std::mutex> lock(grow_mu_);
    records = segments_[segment].load(std::memory_order_acquire);
    if (records == nullptr) {
      records = new ContactRecord[kSegmentSize];
      segments_[segment].store(records, std::memory_order_release);
    }
  }
  return records[seq & (kSegmentSize - 1)];
}

ContactRecord* ContactLog::Find(uint64_t seq) const {
  size_t segment = seq >> kSegmentBits;
  if (segment >= kMaxSegments) return nullptr;
  ContactRecord* records = segments_[segment].load(std::memory_order_acquire);
  return records == nullptr ? nullptr : &records[seq & (kSegmentSize - 1)];
}

LoadRun::LoadRun(std::string id_prefix, AgentBehaviour behaviour)
    : id_prefix_(std::move(id_prefix)), behaviour_(behaviour) {}

std::string LoadRun::ContactId(uint64_t seq) const {
  std::string id = id_prefix_;
  id += '-';
  id += std::to_string(seq);
  return id;
}

bool LoadRun::ParseContactId(std::string_view id, uint64_t& seq) const {
  if (id.size() < id_prefix_.size() + 2 ||
      id.compare(0, id_prefix_.size(), id_prefix_) != 0 ||
      id[id_prefix_.size()] != '-') {
    return false;
  }
  uint64_t value = 0;
  for (size_t i = id_prefix_.size() + 1; i < id.size(); ++i) {
    char c = id[i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  seq = value;
  return true;
}

void LoadRun::OnCreateFailed(ContactRecord& r, std::string_view method,
                             const grpc::Status& status) {
  r.failed.store(true);
  CountStatus(method, status);
  create_failed_.fetch_add(1);
  if (on_done_) on_done_();
}

void LoadRun::OnCompleted(ContactRecord& r) {
  int64_t expected = 0;
  if (!r.completed.compare_exchange_strong(expected, NowNs())) return;
  completed_.fetch_add(1);
  if (on_done_) on_done_();
}

void LoadRun::CountError(const std::string& what) {
  std::lock_guard<std::mutex> lock(errors_mu_);
  errors_[what]++;
}

void LoadRun::CountStatus(std::string_view method, const grpc::Status& status) {
  std::string what(method);
  what += ' ';
  what += StatusCodeName(status.error_code());
  CountError(what);
}

void LoadRun::CountWithdrawn(const std::string& reason) {
  std::lock_guard<std::mutex> lock(errors_mu_);
  withdrawn_[reason]++;
}

std::map<std::string, int64_t> LoadRun::errors() const {
  std::lock_guard<std::mutex> lock(errors_mu_);
  return errors_;
}

int64_t LoadRun::error_count() const {
  std::lock_guard<std::mutex> lock(errors_mu_);
  int64_t n = 0;
  for (const auto& [what, count] : errors_) n += count;
  return n;
}

std::map<std::string, int64_t> LoadRun::withdrawn() const {
  std::lock_guard<std::mutex> lock(errors_mu_);
  return withdrawn_;
}

std::string StatusCodeName(int code) {
  // gRPC's codes are abseil's, by number and name.
  std::string name =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  return name.empty() ? "UNKNOWN" : name;
}

}  // namespace ccroute::load
