#include "server/api/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/runtime/log.h"

namespace ccroute::api {

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
  std::string code = absl::StatusCodeToString(
      static_cast<absl::StatusCode>(outcome.error_code()));
  std::initializer_list<runtime::LogField> fields = {{"principal", who.name},
                                                     {"role", role},
                                                     {"method", method},
                                                     {"object", object},
                                                     {"code", code}};
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) {
    runtime::Log(runtime::LogLevel::kInfo, "audit", fields);
    return;
  }
  std::string line = runtime::FormatTimestampedLogLine(runtime::LogLevel::kInfo,
                                                       "audit", fields);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace ccroute::api
