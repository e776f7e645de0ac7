#include "service/server/upstream_call.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "service/engine/status_reason.h"
#include "service/gitlab/response_body.h"
#include "service/gitlab/response_headers.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::server {
namespace {

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  int64_t seconds = absl::IDivDuration(d, absl::Seconds(1), &d);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(d)));
}

// Valid UTF-8 as is (moved, no copy), else repaired.
std::string Utf8(std::string& s) {
  return gitlab::IsValidUtf8(s) ? std::move(s) : gitlab::ToValidUtf8(s);
}

// Moves GitLab's answer into the Response a caller sees. `rate_limit` is the
// already parsed RateLimit-* headers.
void FillResponse(engine::HttpResponse http, int attempts,
                  v1::RateLimit rate_limit, v1::Response* response) {
  response->set_status_code(http.status_code);
  response->set_attempts(attempts);
  SetDuration(http.latency, response->mutable_upstream_latency());
  *response->mutable_page() = gitlab::ParsePage(http.headers);
  *response->mutable_rate_limit() = std::move(rate_limit);
  response->mutable_headers()->Reserve(static_cast<int>(http.headers.size()));
  for (auto& [name, value] : http.headers) {
    v1::Header* header = response->add_headers();
    header->set_name(Utf8(name));
    header->set_value(Utf8(value));
  }
  gitlab::SetBody(http.content_type, std::move(http.body), response);
}

std::optional<int64_t> Field(bool has, int64_t value) {
  return has ? std::optional<int64_t>(value) : std::nullopt;
}

constexpr absl::Duration kMinExchangeTime = absl::Milliseconds(50);

bool IsBigAnswer(const absl::StatusOr<engine::HttpResponse>& result) {
  return result.ok() &&
         (result->body.size() > UpstreamCall::kInlineAnswerBytes ||
          result->headers.size() > UpstreamCall::kInlineAnswerHeaders);
}

double UnitRandom() {
  thread_local absl::BitGen gen;
  return absl::Uniform(gen, 0.0, 1.0);
}

}  // namespace

UpstreamCall::UpstreamCall(UpstreamCaller* caller, Setup setup, CallDone done)
    : caller_(caller), setup_(std::move(setup)), done_(std::move(done)) {}

void UpstreamCall::Begin() {
  caller_->budget_.RequestStarted();
  Admit();
}

void UpstreamCall::Cancel() {
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
  if (transfer.has_value()) caller_->engine_->Cancel(*transfer);
  if (finish_now) {
    Finish(GatewayOutcome(gitlab::GatewayError(
        grpc::StatusCode::CANCELLED, "CANCELLED", "call cancelled")));
  }
}

void UpstreamCall::Admit() {
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;
    state_ = State::kWaiting;
  }
  absl::Time now = absl::Now();
  if (now >= setup_.http.deadline) {
    return FinishWithLastOr(GatewayOutcome(gitlab::GatewayError(
        grpc::StatusCode::DEADLINE_EXCEEDED, "QUEUE_TIMEOUT",
        "deadline passed before the call could be sent")));
  }
  // A free slot is taken whatever the deadline; a wait is accepted only if
  // it leaves the exchange some time.
  limits::CredentialLimiters::Reservation r = caller_->limiters_.Reserve(
      setup_.credential_key, setup_.credential_class, now,
      std::max(now, setup_.http.deadline - kMinExchangeTime));
  if (!r.granted) {
    // The deadline falls before the credential may send again.
    return FinishWithLastOr(GatewayOutcome(gitlab::RetryLater(
        "GATEWAY_RATE_LIMITED",
        "the credential's rate limit leaves no slot before the call's deadline",
        r.ready - now)));
  }
  caller_->metrics_->LimiterWait(setup_.credential_class, r.ready - now);
  if (r.ready <= now) return Send();
  auto self = shared_from_this();
  caller_->scheduler_.RunAt(r.ready, [self, epoch = r.epoch](bool stopping) {
    if (stopping) {
      return self->Finish(self->GatewayOutcome(gitlab::GatewayError(
          grpc::StatusCode::UNAVAILABLE, "GATEWAY_SHUTTING_DOWN",
          "gateway is shutting down")));
    }
    // A pause that began while we waited invalidates the reservation.
    if (self->caller_->limiters_.Epoch(self->setup_.credential_key) != epoch) {
      return self->Admit();
    }
    self->Send();
  });
}

void UpstreamCall::Send() {
  int attempt;
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;
    state_ = State::kInFlight;
    transfer_.reset();
    attempt = ++attempts_;
  }
  auto self = shared_from_this();
  absl::StatusOr<engine::TransferId> id = caller_->engine_->Submit(
      setup_.http, [self](absl::StatusOr<engine::HttpResponse> result) {
        // On the engine thread: what costs in proportion to the answer's
        // size (UTF-8 checks, error and GraphQL parsing) goes elsewhere.
        if (IsBigAnswer(result)) {
          return self->caller_->work_.Run(
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
  if (cancel) caller_->engine_->Cancel(*id);
}

CallOutcome UpstreamCall::Outcome(
    const absl::StatusOr<engine::HttpResponse>& result, int attempts) {
  CallOutcome outcome;
  outcome.response.set_id(setup_.id);
  if (!result.ok()) {
    outcome.status = gitlab::MapTransportError(result.status(), attempts);
    outcome.response.set_attempts(attempts);
    return outcome;
  }
  const engine::HttpResponse& http = *result;
  const bool failed = !gitlab::IsSuccess(http.status_code);
  if (!failed && !setup_.graphql) return outcome;
  gitlab::UpstreamAnswer answer{http.status_code, http.headers, http.body,
                                http.content_type, setup_.path, absl::Now(),
                                attempts};
  const std::string& host = caller_->options_.base_url.host;
  outcome.status = failed ? gitlab::MapGitLabAnswer(host, answer)
                          : gitlab::MapGraphqlErrors(host, answer);
  return outcome;
}

void UpstreamCall::OnResult(absl::StatusOr<engine::HttpResponse> result) {
  int attempts;
  bool cancelled;
  {
    absl::MutexLock lock(&mu_);
    transfer_.reset();
    state_ = State::kWaiting;
    attempts = attempts_;
    cancelled = cancelled_;
    if (holds_retry_) {
      holds_retry_ = false;
      caller_->budget_.RetryFinished();
    }
  }
  absl::Time now = absl::Now();
  metrics::Metrics& metrics = *caller_->metrics_;
  v1::RateLimit advertised;
  if (result.ok()) {
    metrics.ObserveUpstream(setup_.http.method, setup_.route,
                            result->status_code, result->latency);
    advertised = gitlab::ParseRateLimit(result->headers);
    if (advertised.has_limit() || advertised.has_remaining()) {
      std::optional<absl::Time> reset;
      if (advertised.has_reset()) {
        reset = absl::FromUnixSeconds(advertised.reset().seconds());
      }
      caller_->limiters_.Observe(
          setup_.credential_key, setup_.credential_class,
          Field(advertised.has_limit(), advertised.limit()),
          Field(advertised.has_remaining(), advertised.remaining()), reset, now);
    }
  } else {
    metrics.CountUpstreamFailure(
        setup_.http.method, setup_.route,
        engine::ReasonOf(result.status()).value_or("UNKNOWN"));
  }
  if (!cancelled && ScheduleRetry(result, advertised, now)) return;

  CallOutcome outcome = Outcome(result, attempts);
  if (result.ok()) {
    FillResponse(*std::move(result), attempts, std::move(advertised),
                 &outcome.response);
  }
  Finish(std::move(outcome));
}

bool UpstreamCall::ScheduleRetry(
    const absl::StatusOr<engine::HttpResponse>& result,
    const v1::RateLimit& advertised, absl::Time now) {
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
      limits::ClassifyForRetry(setup_.http.method, attempt);
  const limits::RetryOptions& options = caller_->options_.retry;
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
    caller_->limiters_.Pause(setup_.credential_key, setup_.credential_class,
                             until, now);
    when = until;
  } else if (reason != limits::RetryReason::kNone) {
    when = now + limits::Backoff(options, attempts, UnitRandom());
  }
  if (reason == limits::RetryReason::kNone || attempts >= options.max_attempts ||
      when >= setup_.http.deadline) {
    return false;
  }
  // Pauses already space out 429s; the budget guards against an outage.
  bool budgeted = reason != limits::RetryReason::kRateLimited;
  if (budgeted && !caller_->budget_.TryStartRetry()) {
    caller_->metrics_->RetryDenied(setup_.credential_class);
    return false;
  }
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone || cancelled_) {
      if (budgeted) caller_->budget_.RetryFinished();
      return false;
    }
    holds_retry_ = budgeted;
    CallOutcome last = Outcome(result, attempts);
    if (result.ok()) {
      FillResponse(*result, attempts, advertised, &last.response);
    }
    last_ = std::move(last);
  }
  caller_->metrics_->RetryScheduled(limits::RetryReasonLabel(reason),
                                    setup_.credential_class);
  if (reason == limits::RetryReason::kRateLimited) {
    Admit();  // waits in the limiter until the pause ends
  } else {
    auto self = shared_from_this();
    caller_->scheduler_.RunAt(when, [self](bool stopping) {
      if (stopping) {
        return self->Finish(self->GatewayOutcome(gitlab::GatewayError(
            grpc::StatusCode::UNAVAILABLE, "GATEWAY_SHUTTING_DOWN",
            "gateway is shutting down")));
      }
      self->Admit();
    });
  }
  return true;
}

void UpstreamCall::FinishWithLastOr(CallOutcome fallback) {
  std::optional<CallOutcome> last;
  {
    absl::MutexLock lock(&mu_);
    last = std::move(last_);
  }
  Finish(last.has_value() ? *std::move(last) : std::move(fallback));
}

CallOutcome UpstreamCall::GatewayOutcome(grpc::Status status) {
  CallOutcome outcome;
  outcome.response.set_id(setup_.id);
  outcome.status = std::move(status);
  return outcome;
}

void UpstreamCall::Finish(CallOutcome outcome) {
  {
    absl::MutexLock lock(&mu_);
    if (state_ == State::kDone) return;
    state_ = State::kDone;
    if (holds_retry_) {
      holds_retry_ = false;
      caller_->budget_.RetryFinished();
    }
  }
  caller_->budget_.RequestFinished();
  CallDone done = std::move(done_);
  done(std::move(outcome));
}

}  // namespace gitlab_gateway::server
