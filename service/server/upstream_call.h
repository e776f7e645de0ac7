#ifndef GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALL_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALL_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/engine/http_types.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

// One call's life: wait for the credential's limiter, send, map the answer,
// and maybe retry (after a 429 pause or a jittered backoff, within the
// budget and the deadline). Steps run on the engine thread, the scheduler
// thread, the starting thread or (answers bigger than kInlineAnswerBytes or
// kInlineAnswerHeaders) the caller's WorkPool, one at a time; Cancel() may come from any
// thread at any moment and ends the call promptly.
class UpstreamCall : public std::enable_shared_from_this<UpstreamCall> {
 public:
  // Answers up to these sizes are mapped on the engine thread (bounded work);
  // bigger ones on the WorkPool.
  static constexpr size_t kInlineAnswerBytes = 64 * 1024;
  static constexpr size_t kInlineAnswerHeaders = 64;

  struct Setup {
    engine::HttpRequest http;  // the attempt template (deadline set)
    std::string id;
    std::string path;
    std::string route;
    std::string credential_key;
    std::string credential_class;  // "default" or "caller": metric label
    bool graphql = false;  // a 200 with "errors" is an error
  };

  UpstreamCall(UpstreamCaller* caller, Setup setup, CallDone done);

  // Begins the first attempt.
  void Begin();
  // Ends the call with CANCELLED (at once when waiting; through the engine
  // when a transfer is in flight). Idempotent.
  void Cancel();

 private:
  enum class State { kWaiting, kInFlight, kDone };

  void Admit();
  void Send();
  void OnResult(absl::StatusOr<engine::HttpResponse> result);
  CallOutcome Outcome(const absl::StatusOr<engine::HttpResponse>& result,
                      int attempts);
  // Schedules the next attempt, or returns false when it may not happen.
  // `advertised` is the answer's already parsed RateLimit-* headers.
  bool ScheduleRetry(const absl::StatusOr<engine::HttpResponse>& result,
                     const v1::RateLimit& advertised, absl::Time now);
  void Finish(CallOutcome outcome);
  // Finishes with the last real error when an attempt was made, else with
  // `fallback`.
  void FinishWithLastOr(CallOutcome fallback);
  CallOutcome GatewayOutcome(grpc::Status status);

  UpstreamCaller* const caller_;
  const Setup setup_;
  CallDone done_;  // moved out by Finish

  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kWaiting;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<engine::TransferId> transfer_ ABSL_GUARDED_BY(mu_);
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
  bool holds_retry_ ABSL_GUARDED_BY(mu_) = false;
  // The last real error, returned when no further attempt is possible.
  std::optional<CallOutcome> last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_UPSTREAM_CALL_H_
