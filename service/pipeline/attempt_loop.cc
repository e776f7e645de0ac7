#include "service/pipeline/attempt_loop.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "service/engine/status_reason.h"
#include "service/gitlab/response_headers.h"
#include "service/gitlab/status_mapping.h"
#include "service/gitlab/throttle_scope.h"

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
  limits::Admission a = parts_.limiters->Reserve(
      call_.credential_key, call_.credential_class, call_.route, now,
      std::max(now, call_.http.deadline - kMinExchangeTime));
  if (a.kind == limits::Admission::Kind::kRefused) {
    // The deadline falls before the credential (or route) may send again.
    return FinishWithLastOr(GatewayOutcome(gitlab::RetryLater(
        "GATEWAY_RATE_LIMITED",
        "the credential's rate limit leaves no slot before the call's deadline",
        a.ready - now)));
  }
  if (a.kind == limits::Admission::Kind::kAdmitAgain) return AdmitLater(a);
  if (a.probe) {  // once per credential: the fast path takes no lock here
    absl::MutexLock lock(&mu_);
    holds_probe_ = true;
  }
  parts_.metrics->LimiterWait(call_.credential_class, a.ready - now);
  if (a.ready <= now) return Send(a.seq);
  auto self = shared_from_this();
  parts_.scheduler->RunAt(a.ready, [self, epoch = a.epoch,
                                    seq = a.seq](bool stopping) {
    if (stopping) return self->FinishShuttingDown();
    // A pause that began while we waited invalidates the reservation.
    if (self->parts_.limiters->Epoch(self->call_.credential_key,
                                     self->call_.route) != epoch) {
      return self->Admit();
    }
    self->Send(seq);
  });
}

void AttemptLoop::AdmitLater(const limits::Admission& admission) {
  uint64_t id;
  bool own_probe = false;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;
    id = ++wait_id_;
    // The probe itself, sent back by a pause before it went out, must not
    // wait for its own answer.
    if (admission.awaits_probe) own_probe = std::exchange(holds_probe_, false);
  }
  if (own_probe) {
    parts_.limiters->EndProbe(call_.credential_key);
    return Admit();
  }
  auto self = shared_from_this();
  // Past the deadline, Admit finishes the call.
  parts_.scheduler->RunAt(std::min(admission.ready, call_.http.deadline),
                          [self, id](bool stopping) { self->Resume(id, stopping); });
  if (admission.awaits_probe &&
      !parts_.limiters->AwaitProbe(call_.credential_key, [self, id] {
        self->Resume(id, /*stopping=*/false);
      })) {
    Resume(id, /*stopping=*/false);  // the probe ended meanwhile
  }
}

void AttemptLoop::Resume(uint64_t id, bool stopping) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone || wait_id_ != id) return;
    ++wait_id_;  // later wake-ups of this wait are stale
  }
  if (stopping) return FinishShuttingDown();
  Admit();
}

void AttemptLoop::Send(uint64_t seq) {
  int attempt;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;
    state_ = State::kInFlight;
    seq_ = seq;
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
  uint64_t seq;
  bool probe;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;  // a late completion: nothing to do
    transfer_.reset();
    state_ = State::kWaiting;
    attempts = attempts_;
    cancelled = cancelled_;
    seq = seq_;
    probe = std::exchange(holds_probe_, false);
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
    metrics.CountBodyBytes(
        call_.route, result->body.size() + result->streamed_bytes,
        (call_.http.body.has_value() ? call_.http.body->size() : 0) +
            result->uploaded_bytes);
    advertised = gitlab::ParseRateLimit(result->headers);
    // An endpoint's own throttle (RateLimit-Name) says nothing about the
    // credential's pace.
    if ((advertised.has_limit() || advertised.has_remaining()) &&
        gitlab::ScopeOf(advertised) == gitlab::ThrottleScope::kCredential) {
      std::optional<absl::Time> reset;
      if (advertised.has_reset()) {
        reset = absl::FromUnixSeconds(advertised.reset().seconds());
      }
      parts_.limiters->Observe(
          call_.credential_key, call_.credential_class,
          Field(advertised.has_limit(), advertised.limit()),
          Field(advertised.has_remaining(), advertised.remaining()), reset,
          seq, now);
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
  std::optional<absl::Time> paused_until =
      PauseAfter429(result, advertised, attempts, now);
  // After the pause, so that the calls it releases see it.
  if (probe) parts_.limiters->EndProbe(call_.credential_key);
  if (!cancelled && ScheduleRetry(result, advertised, paused_until, now)) {
    return;
  }

  gitlab::CallOutcome outcome =
      gitlab::Interpret(call_, parts_.options->domain, std::move(result),
                        attempts, std::move(advertised), now);
  Finish(std::move(outcome));
}

std::optional<absl::Time> AttemptLoop::PauseAfter429(
    const absl::StatusOr<engine::HttpResponse>& result,
    const ::gitlab::gateway::v1::RateLimit& advertised, int attempts,
    absl::Time now) {
  if (!result.ok() || result->status_code != 429) return std::nullopt;
  std::optional<absl::Duration> delay = gitlab::RetryDelay(result->headers, now);
  absl::Time until =
      now + delay.value_or(limits::Backoff(parts_.options->retry, attempts, 1.0));
  // GitLab's per-user throttles hold every call of the credential; an
  // endpoint's limit only that endpoint (gitlab/throttle_scope.h).
  limits::PauseScope scope =
      gitlab::ScopeOf(advertised) == gitlab::ThrottleScope::kCredential
          ? limits::PauseScope::kCredential
          : limits::PauseScope::kRoute;
  parts_.limiters->Pause(call_.credential_key, call_.credential_class, scope,
                         call_.route, until, now);
  // Every replica pauses a credential-wide throttle; an endpoint's stays
  // with the replica that saw it (the shared quota has no route keys).
  if (parts_.shared_quota != nullptr &&
      scope == limits::PauseScope::kCredential) {
    parts_.shared_quota->Pause(call_.credential_key, call_.credential_class,
                               until, now);
  }
  return until;
}

int AttemptLoop::MaxAttempts() const {
  const int gateway = parts_.options->retry.max_attempts;
  return call_.max_attempts > 0 ? std::min(call_.max_attempts, gateway)
                                : gateway;
}

bool AttemptLoop::ScheduleRetry(
    const absl::StatusOr<engine::HttpResponse>& result,
    const ::gitlab::gateway::v1::RateLimit& advertised,
    std::optional<absl::Time> paused_until, absl::Time now) {
  // A streamed body cannot be replayed: an upload's source is consumed, and
  // a download's first bytes may already be with the caller.
  if (call_.http.source != nullptr ||
      (call_.http.sink != nullptr && call_.http.sink->Committed())) {
    return false;
  }
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
    // The limiter holds this call until the pause ends.
    when = paused_until.value_or(now);
  } else if (reason != limits::RetryReason::kNone) {
    when = now + limits::Backoff(options, attempts, UnitRandom());
  }
  if (reason == limits::RetryReason::kNone || attempts >= MaxAttempts() ||
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
  outcome.response->set_id(call_.id);
  outcome.status = std::move(status);
  return outcome;
}

void AttemptLoop::FinishShuttingDown() {
  Finish(GatewayOutcome(gitlab::GatewayError(grpc::StatusCode::UNAVAILABLE,
                                             "GATEWAY_SHUTTING_DOWN",
                                             "gateway is shutting down")));
}

void AttemptLoop::Finish(gitlab::CallOutcome outcome) {
  bool probe;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;
    state_ = State::kDone;
    if (holds_retry_) {
      holds_retry_ = false;
      parts_.budget->RetryFinished();
    }
    probe = std::exchange(holds_probe_, false);
  }
  // A probe that ends without an answer (cancelled, shut down) releases too.
  if (probe) parts_.limiters->EndProbe(call_.credential_key);
  parts_.budget->RequestFinished();
  gitlab::CallDone done = std::move(done_);
  done(std::move(outcome));
}

}  // namespace gitlab_gateway::pipeline
