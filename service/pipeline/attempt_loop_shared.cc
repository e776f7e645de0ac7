// AttemptLoop's admission through the quota shared in Redis (issue 14);
// the embedded limiter's admission is AttemptLoop::Admit in
// attempt_loop.cc.

#include <utility>

#include "absl/time/clock.h"
#include "service/gitlab/status_mapping.h"
#include "service/pipeline/attempt_loop.h"

namespace gitlab_gateway::pipeline {

void AttemptLoop::AdmitShared(absl::Time now, absl::Time latest) {
  auto self = shared_from_this();
  // The answer comes on the Redis client thread (or at once, from the local
  // share while Redis is unusable); no thread waits for it.
  parts_.shared_quota->Admit(
      call_.credential_key, call_.credential_class, now, latest,
      [self, now](limits::QuotaStore::Admission admission) {
        if (admission.shutting_down) return self->FinishShuttingDown();
        absl::Time answered = absl::Now();
        if (!admission.granted) {
          return self->FinishWithLastOr(self->GatewayOutcome(gitlab::RetryLater(
              "GATEWAY_RATE_LIMITED",
              "the credential's rate limit leaves no slot before the call's "
              "deadline",
              admission.ready - answered)));
        }
        // The wait includes the round trip to Redis.
        self->parts_.metrics->LimiterWait(self->call_.credential_class,
                                          admission.ready - now);
        if (admission.ready <= answered) return self->Send(/*seq=*/0);
        self->parts_.scheduler->RunAt(
            admission.ready, [self, epoch = admission.epoch](bool stopping) {
              if (stopping) return self->FinishShuttingDown();
              // A pause seen since (here or by another replica) voids the
              // slot: ask again.
              if (self->parts_.shared_quota->Epoch(
                      self->call_.credential_key) != epoch) {
                return self->Admit();
              }
              self->Send(/*seq=*/0);
            });
      });
}

}  // namespace gitlab_gateway::pipeline
