#ifndef GITLAB_GATEWAY_SERVICE_PIPELINE_ATTEMPT_LOOP_H_
#define GITLAB_GATEWAY_SERVICE_PIPELINE_ATTEMPT_LOOP_H_

#include <cstddef>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/engine/http_types.h"
#include "service/gitlab/call_outcome.h"
#include "service/gitlab/prepared_call.h"
#include "service/limits/credential_limiters.h"
#include "service/pipeline/pipeline.h"
#include "service/pipeline/upstream.h"

namespace gitlab_gateway::pipeline {

// One call's life: wait for the credential's limiter, send, interpret the
// answer, and maybe retry (after a 429 pause or a jittered backoff, within
// the budget and the deadline). Steps run on the engine thread, the
// scheduler thread, the starting thread or (answers bigger than
// kInlineAnswerBytes or kInlineAnswerHeaders) the WorkPool, one at a time;
// Cancel() may come from any thread at any moment and ends the call
// promptly. Once finished, every later step (a late engine completion, a
// scheduled wake-up) is a no-op.
class AttemptLoop final : public CallHandle,
                          public std::enable_shared_from_this<AttemptLoop> {
 public:
  // Answers up to these sizes are interpreted on the engine thread (bounded
  // work); bigger ones on the WorkPool.
  static constexpr size_t kInlineAnswerBytes = 64 * 1024;
  static constexpr size_t kInlineAnswerHeaders = 64;

  AttemptLoop(const PipelineParts* parts, gitlab::PreparedCall call,
              gitlab::CallDone done);

  // Begins the first attempt.
  void Begin();
  void Cancel() override;

 private:
  enum class State { kWaiting, kInFlight, kDone };

  void Admit();
  // Waits for what `admission` (kAdmitAgain) names: its time, the deadline,
  // or the end of the slow-start probe, whichever comes first; then Admit.
  void AdmitLater(const limits::Admission& admission);
  // The wake-up of wait `id`; a wake-up of an earlier wait is a no-op.
  void Resume(uint64_t id, bool stopping);
  // Sends the attempt granted as `seq` (Admission::seq).
  void Send(uint64_t seq);
  // Admit through the quota shared in Redis (attempt_loop_shared.cc): the
  // answer arrives on the Redis client thread and the call proceeds from
  // there. `latest` is the last time a slot may be taken.
  void AdmitShared(absl::Time now, absl::Time latest);
  void OnResult(absl::StatusOr<engine::HttpResponse> result);
  // After a 429: pauses the credential (a per-user throttle) or the route
  // (an endpoint limit) and returns when the pause ends; else nullopt.
  std::optional<absl::Time> PauseAfter429(
      const absl::StatusOr<engine::HttpResponse>& result,
      const ::gitlab::gateway::v1::RateLimit& advertised, int attempts,
      absl::Time now);
  // Schedules the next attempt, or returns false when it may not happen.
  // `advertised` is the answer's already parsed RateLimit-* headers;
  // `paused_until` what PauseAfter429 returned.
  bool ScheduleRetry(const absl::StatusOr<engine::HttpResponse>& result,
                     const ::gitlab::gateway::v1::RateLimit& advertised,
                     std::optional<absl::Time> paused_until, absl::Time now);
  // Request.max_attempts capped by the gateway's setting.
  int MaxAttempts() const;
  void Finish(gitlab::CallOutcome outcome);
  // Finishes with the last real error when an attempt was made, else with
  // `fallback`.
  void FinishWithLastOr(gitlab::CallOutcome fallback);
  gitlab::CallOutcome GatewayOutcome(grpc::Status status) const;
  void FinishShuttingDown();

  const PipelineParts& parts_;
  const gitlab::PreparedCall call_;
  gitlab::CallDone done_;  // moved out by Finish

  absl::Mutex mu_;
  State state_ ABSL_GUARDED_BY(mu_) = State::kWaiting;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<engine::TransferId> transfer_ ABSL_GUARDED_BY(mu_);
  int attempts_ ABSL_GUARDED_BY(mu_) = 0;
  bool holds_retry_ ABSL_GUARDED_BY(mu_) = false;
  // This call's attempt is the credential's slow-start probe: its answer
  // (OnResult) or its end (Finish) calls EndProbe.
  bool holds_probe_ ABSL_GUARDED_BY(mu_) = false;
  // Admission::seq of the attempt in flight, for Observe.
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  // Bumped by each wait and each wake-up: only the current wait's first
  // wake-up admits.
  uint64_t wait_id_ ABSL_GUARDED_BY(mu_) = 0;
  // The last real error, returned when no further attempt is possible.
  std::optional<gitlab::CallOutcome> last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gitlab_gateway::pipeline

#endif  // GITLAB_GATEWAY_SERVICE_PIPELINE_ATTEMPT_LOOP_H_
