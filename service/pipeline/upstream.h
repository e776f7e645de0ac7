#ifndef GITLAB_GATEWAY_SERVICE_PIPELINE_UPSTREAM_H_
#define GITLAB_GATEWAY_SERVICE_PIPELINE_UPSTREAM_H_

#include <cstdint>
#include <memory>

#include "service/gitlab/call_outcome.h"
#include "service/gitlab/prepared_call.h"

namespace gitlab_gateway::pipeline {

// A started call: Cancel ends it with CANCELLED (at once when it waits; through
// the engine when a transfer is in flight). Idempotent; a no-op once the call
// finished. Any thread.
class CallHandle {
 public:
  virtual ~CallHandle() = default;
  virtual void Cancel() = 0;
};

// What the reactors see of everything below them: a prepared call goes in,
// exactly one CallOutcome comes out. Tests put a fake here instead of sockets.
//
// Start and NewFlow may be called from any thread. `done` runs exactly once:
// inside Start when the call is refused at once (overload, shutdown),
// otherwise later on one of the pipeline's threads. It must not block.
//
//   std::shared_ptr<CallHandle> call = upstream->Start(std::move(prepared),
//       [](gitlab::CallOutcome outcome) { ... });
//   call->Cancel();
class Upstream {
 public:
  virtual ~Upstream() = default;

  virtual std::shared_ptr<CallHandle> Start(gitlab::PreparedCall call,
                                            gitlab::CallDone done) = 0;

  // A fresh fair-queueing key (PreparedCall.http.flow) for a stream; 0 is
  // shared by unary calls.
  virtual uint64_t NewFlow() = 0;
};

}  // namespace gitlab_gateway::pipeline

#endif  // GITLAB_GATEWAY_SERVICE_PIPELINE_UPSTREAM_H_
