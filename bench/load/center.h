// The contact center ccroute-load drives: `queues` voice queues named
// load-q-00, load-q-01, ... each needing its own skill at level 1, and
// `agents` agents named load-agent-00001, ... each with the skills of two
// neighbouring queues (agent i: queues i mod Q and i+1 mod Q), voice
// capacity 1 and the run's wrap-up time. The same center is written as a
// configuration file for a spawned ccrouted, or set up over the Admin service
// of a running one.
#ifndef CCROUTE_BENCH_LOAD_CENTER_H_
#define CCROUTE_BENCH_LOAD_CENTER_H_

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace ccroute::load {

struct CenterOptions {
  int agents = 0;
  int queues = 1;
  // The agents' wrap-up time for voice; 0: no wrap-up.
  double wrap_up_ms = 0;
};

// "load-agent-00001" for index 0.
std::string AgentId(int index);
// "load-q-00" for index 0.
std::string QueueName(int index);

// A ccrouted configuration file (YAML) holding the center, listening on
// `listen`, with the Prometheus endpoint on `metrics_listen` ("" for none).
// With `security_section`, it also says `security: {plaintext: true, auth:
// none}`, which servers that require that section (and only those) take.
std::string CenterConfigYaml(const CenterOptions& center,
                             const std::string& listen,
                             const std::string& metrics_listen,
                             bool security_section);

// Creates or replaces the queues and agent profiles through Admin.UpsertQueue
// and Admin.UpsertAgentProfile, one call at a time. Returns the
// first failure's status, naming the call.
absl::Status SetUpOverAdmin(const std::shared_ptr<grpc::Channel>& channel,
                            const CenterOptions& center);

}  // namespace ccroute::load

#endif  // CCROUTE_BENCH_LOAD_CENTER_H_
