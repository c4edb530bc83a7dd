// The audit trail of changes made over the API: who (the principal's name
// and role), what (the method and the object's name), when, and the
// outcome. One JSON object per line, appended to a file, or written to the
// log (event "audit") when no file is configured.
//
// Thread-safe.
#ifndef CCROUTE_SERVER_API_AUDIT_LOG_H_
#define CCROUTE_SERVER_API_AUDIT_LOG_H_

#include <grpcpp/support/status.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "server/api/auth.h"

namespace ccroute::api {

class AuditLog {
 public:
  AuditLog() = default;
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends to `path` from now on (created with mode 0600 if missing);
  // an empty path writes to the log. The error names the path.
  absl::Status Open(const std::string& path);

  // Records one change: `object` is the queue name, agent id or the like,
  // never personal data. Each line is written and flushed at once.
  void Record(const Principal& who, std::string_view method,
              std::string_view object, const grpc::Status& outcome);

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;  // guarded by mu_; null: the log
};

}  // namespace ccroute::api

#endif  // CCROUTE_SERVER_API_AUDIT_LOG_H_
