#include "server/api/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "server/runtime/log.h"

namespace ccroute::api {
namespace {

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    default:
      return std::to_string(static_cast<int>(code));
  }
}

std::string UtcNow() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  int millis =
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                           now.time_since_epoch())
                           .count() %
                       1000);
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char ts[64];
  std::snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour,
                utc.tm_min, utc.tm_sec, millis);
  return ts;
}

}  // namespace

AuditLog::~AuditLog() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status AuditLog::Open(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  int fd =
      ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int error = errno;
    return absl::Status(absl::ErrnoToStatusCode(error),
                        "security.audit_log_file: " + path +
                            ": cannot open: " + std::strerror(error));
  }
  std::FILE* file = ::fdopen(fd, "a");
  if (file == nullptr) {
    ::close(fd);
    return absl::InternalError("security.audit_log_file: " + path +
                               ": cannot open");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ != nullptr) std::fclose(file_);
  file_ = file;
  return absl::OkStatus();
}

void AuditLog::Record(const Principal& who, std::string_view method,
                      std::string_view object, const grpc::Status& outcome) {
  std::string role = who.unrestricted ? "any" : std::string(RoleName(who.role));
  std::string code = CodeName(outcome.error_code());
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) {
    runtime::Log(runtime::LogLevel::kInfo, "audit",
                 {{"principal", who.name},
                  {"role", role},
                  {"method", method},
                  {"object", object},
                  {"code", code}});
    return;
  }
  std::string line = "{\"ts\":\"" + UtcNow() + "\",\"event\":\"audit\"";
  for (auto [key, value] :
       {std::pair<std::string_view, std::string_view>{"principal", who.name},
        {"role", role},
        {"method", method},
        {"object", object},
        {"code", code}}) {
    line += ',';
    runtime::AppendJsonString(line, key);
    line += ':';
    runtime::AppendJsonString(line, value);
  }
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace ccroute::api
