#include "service/pipeline/attempt_loop.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "service/engine/status_reason.h"
#include "service/gitlab/response_headers.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::pipeline {
namespace {

std::optional<int64_t> Field(bool has, int64_t value) {
  return has ? std::optional<int64_t>(value) : std::nullopt;
}

constexpr absl::Duration kMinExchangeTime = absl::Milliseconds(50);

bool IsBigAnswer(const absl::StatusOr<engine::HttpResponse>& result) {
  return result.ok() &&
         (result->body.size() > AttemptLoop::kInlineAnswerBytes ||
          result->headers.size() > AttemptLoop::kInlineAnswerHeaders);
}

double UnitRandom() {
  thread_local absl::BitGen gen;
  return absl::Uniform(gen, 0.0, 1.0);
}

}  // namespace

AttemptLoop::AttemptLoop(const PipelineParts* parts, gitlab::PreparedCall call,
                         gitlab::CallDone done)
    : parts_(*parts), call_(std::move(call)), done_(std::move(done)) {}

void AttemptLoop::Begin() {
  parts_.budget->RequestStarted();
  Admit();
}

void AttemptLoop::Cancel() {
  std::optional<engine::TransferId> transfer;
  bool finish_now = false;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_ || state_ == State::kDone) return;
    cancelled_ = true;
    if (state_ == State::kWaiting) {
      finish_now = true;  // the scheduled step will find the call done
    } else {
      transfer = transfer_;  // unset: Send() sees cancelled_ after Submit
    }
  }
  if (transfer.has_value()) parts_.engine->Cancel(*transfer);
  if (finish_now) {
    Finish(GatewayOutcome(gitlab::GatewayError(
        grpc::StatusCode::CANCELLED, "CANCELLED", "call cancelled")));
  }
}

void AttemptLoop::Admit() {
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;
    state_ = State::kWaiting;
  }
  absl::Time now = absl::Now();
  if (now >= call_.http.deadline) {
    return FinishWithLastOr(GatewayOutcome(gitlab::GatewayError(
        grpc::StatusCode::DEADLINE_EXCEEDED, "QUEUE_TIMEOUT",
        "deadline passed before the call could be sent")));
  }
  // A free slot is taken whatever the deadline; a wait is accepted only if
  // it leaves the exchange some time.
  if (parts_.shared_quota != nullptr) {
    return AdmitShared(now,
                       std::max(now, call_.http.deadline - kMinExchangeTime));
  }
  limits::CredentialLimiters::Reservation r = parts_.limiters->Reserve(
      call_.credential_key, call_.credential_class, now,
      std::max(now, call_.http.deadline - kMinExchangeTime));
  if (!r.granted) {
    // The deadline falls before the credential may send again.
    return FinishWithLastOr(GatewayOutcome(gitlab::RetryLater(
        "GATEWAY_RATE_LIMITED",
        "the credential's rate limit leaves no slot before the call's deadline",
        r.ready - now)));
  }
  parts_.metrics->LimiterWait(call_.credential_class, r.ready - now);
  if (r.ready <= now) return Send();
  auto self = shared_from_this();
  parts_.scheduler->RunAt(r.ready, [self, epoch = r.epoch](bool stopping) {
    if (stopping) return self->FinishShuttingDown();
    // A pause that began while we waited invalidates the reservation.
    if (self->parts_.limiters->Epoch(self->call_.credential_key) != epoch) {
      return self->Admit();
    }
    self->Send();
  });
}

void AttemptLoop::Send() {
  int attempt;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;
    state_ = State::kInFlight;
    transfer_.reset();
    attempt = ++attempts_;
  }
  auto self = shared_from_this();
  absl::StatusOr<engine::TransferId> id = parts_.engine->Submit(
      call_.http, [self](absl::StatusOr<engine::HttpResponse> result) {
        // On the engine thread: what costs in proportion to the answer's
        // size (UTF-8 checks, error and GraphQL parsing) goes elsewhere.
        if (IsBigAnswer(result)) {
          return self->parts_.work->Run(
              [self, result = std::move(result)]() mutable {
                self->OnResult(std::move(result));
              });
        }
        self->OnResult(std::move(result));
      });
  if (!id.ok()) return;  // refused: OnResult already ran with the status
  bool cancel;
  {
    absl::MutexLock lock(&mu_);
    // Already completed, and maybe already retried: a later attempt's
    // transfer must not be overwritten by this one's (Cancel would miss it).
    if (state_ != State::kInFlight || attempts_ != attempt) return;
    transfer_ = *id;
    cancel = cancelled_;
  }
  if (cancel) parts_.engine->Cancel(*id);
}

void AttemptLoop::OnResult(absl::StatusOr<engine::HttpResponse> result) {
  int attempts;
  bool cancelled;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;  // a late completion: nothing to do
    transfer_.reset();
    state_ = State::kWaiting;
    attempts = attempts_;
    cancelled = cancelled_;
    if (holds_retry_) {
      holds_retry_ = false;
      parts_.budget->RetryFinished();
    }
  }
  absl::Time now = absl::Now();
  metrics::Metrics& metrics = *parts_.metrics;
  ::gitlab::gateway::v1::RateLimit advertised;
  if (result.ok()) {
    metrics.ObserveUpstream(call_.http.method, call_.route,
                            result->status_code, result->latency);
    advertised = gitlab::ParseRateLimit(result->headers);
    if (advertised.has_limit() || advertised.has_remaining()) {
      std::optional<absl::Time> reset;
      if (advertised.has_reset()) {
        reset = absl::FromUnixSeconds(advertised.reset().seconds());
      }
      parts_.limiters->Observe(
          call_.credential_key, call_.credential_class,
          Field(advertised.has_limit(), advertised.limit()),
          Field(advertised.has_remaining(), advertised.remaining()), reset, now);
      if (parts_.shared_quota != nullptr) {  // every replica follows it
        parts_.shared_quota->Observe(
            call_.credential_key, call_.credential_class,
            Field(advertised.has_limit(), advertised.limit()),
            Field(advertised.has_remaining(), advertised.remaining()), reset,
            now);
      }
    }
  } else {
    metrics.CountUpstreamFailure(
        call_.http.method, call_.route,
        engine::ReasonOf(result.status()).value_or("UNKNOWN"));
  }
  if (!cancelled && ScheduleRetry(result, advertised, now)) return;

  gitlab::CallOutcome outcome =
      gitlab::Interpret(call_, parts_.options->domain, std::move(result),
                        attempts, std::move(advertised), now);
  Finish(std::move(outcome));
}

bool AttemptLoop::ScheduleRetry(
    const absl::StatusOr<engine::HttpResponse>& result,
    const ::gitlab::gateway::v1::RateLimit& advertised, absl::Time now) {
  limits::AttemptResult attempt;
  std::string reason_text;
  if (result.ok()) {
    attempt.http_status = result->status_code;
  } else {
    reason_text = engine::ReasonOf(result.status()).value_or("");
    attempt.transport_reason = reason_text;
    attempt.response_started = engine::ResponseStarted(result.status());
  }
  limits::RetryReason reason =
      limits::ClassifyForRetry(call_.http.method, attempt);
  const limits::RetryOptions& options = parts_.options->retry;
  int attempts;
  {
    absl::MutexLock lock(&mu_);
    attempts = attempts_;
  }
  absl::Time when = now;
  if (reason == limits::RetryReason::kRateLimited) {
    // The whole credential pauses; the limiter holds this call until then.
    std::optional<absl::Duration> delay = gitlab::RetryDelay(result->headers, now);
    absl::Time until =
        now + delay.value_or(limits::Backoff(options, attempts, 1.0));
    parts_.limiters->Pause(call_.credential_key, call_.credential_class,
                             until, now);
    if (parts_.shared_quota != nullptr) {  // every replica pauses
      parts_.shared_quota->Pause(call_.credential_key, call_.credential_class,
                                 until, now);
    }
    when = until;
  } else if (reason != limits::RetryReason::kNone) {
    when = now + limits::Backoff(options, attempts, UnitRandom());
  }
  if (reason == limits::RetryReason::kNone || attempts >= options.max_attempts ||
      when >= call_.http.deadline) {
    return false;
  }
  // Pauses already space out 429s; the budget guards against an outage.
  bool budgeted = reason != limits::RetryReason::kRateLimited;
  if (budgeted && !parts_.budget->TryStartRetry()) {
    parts_.metrics->RetryDenied(call_.credential_class);
    return false;
  }
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone || cancelled_) {
      if (budgeted) parts_.budget->RetryFinished();
      return false;
    }
    holds_retry_ = budgeted;
    // A copy: `result` decides the retry below and is then dropped.
    gitlab::CallOutcome last = gitlab::Interpret(
        call_, parts_.options->domain, result, attempts, advertised, now);
    last_ = std::move(last);
  }
  parts_.metrics->RetryScheduled(limits::RetryReasonLabel(reason),
                                    call_.credential_class);
  if (reason == limits::RetryReason::kRateLimited) {
    Admit();  // waits in the limiter until the pause ends
  } else {
    auto self = shared_from_this();
    parts_.scheduler->RunAt(when, [self](bool stopping) {
      if (stopping) return self->FinishShuttingDown();
      self->Admit();
    });
  }
  return true;
}

void AttemptLoop::FinishWithLastOr(gitlab::CallOutcome fallback) {
  std::optional<gitlab::CallOutcome> last;
  {
    absl::MutexLock lock(&mu_);
    last = std::move(last_);
  }
  Finish(last.has_value() ? *std::move(last) : std::move(fallback));
}

gitlab::CallOutcome AttemptLoop::GatewayOutcome(grpc::Status status) const {
  gitlab::CallOutcome outcome;
  outcome.response.set_id(call_.id);
  outcome.status = std::move(status);
  return outcome;
}

void AttemptLoop::FinishShuttingDown() {
  Finish(GatewayOutcome(gitlab::GatewayError(grpc::StatusCode::UNAVAILABLE,
                                             "GATEWAY_SHUTTING_DOWN",
                                             "gateway is shutting down")));
}

void AttemptLoop::Finish(gitlab::CallOutcome outcome) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;
    state_ = State::kDone;
    if (holds_retry_) {
      holds_retry_ = false;
      parts_.budget->RetryFinished();
    }
  }
  parts_.budget->RequestFinished();
  gitlab::CallDone done = std::move(done_);
  done(std::move(outcome));
}

}  // namespace gitlab_gateway::pipeline
