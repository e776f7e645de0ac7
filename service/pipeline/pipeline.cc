#include "service/pipeline/pipeline.h"

#include <utility>

#include "service/pipeline/attempt_loop.h"
#include "service/pipeline/shared_quota.h"

namespace gitlab_gateway::pipeline {

Pipeline::Pipeline(engine::Engine* engine, metrics::Metrics* metrics,
                   PipelineOptions options)
    : options_(std::move(options)),
      budget_(std::make_unique<limits::RetryBudget>(
          options_.retry_budget_ratio, options_.retry_budget_min)),
      scheduler_(std::make_unique<limits::Scheduler>()),
      limiters_(std::make_unique<limits::CredentialLimiters>(
          options_.limiter, scheduler_.get(),
          [metrics](const std::string& credential_class, int delta) {
            metrics->PausedCredentials(credential_class, delta);
          })),
      quota_metrics_(options_.shared_quota.redis.has_value()
                         ? std::make_unique<metrics::SharedQuotaMetrics>(
                               *metrics->registry())
                         : nullptr),
      shared_quota_(MakeSharedQuota(options_.shared_quota, options_.limiter,
                                    scheduler_.get(), quota_metrics_.get())),
      work_(std::make_unique<WorkPool>(options_.work_threads)),
      parts_{engine,         metrics,          limiters_.get(), budget_.get(),
             scheduler_.get(), work_.get(), &options_, shared_quota_.get()} {}

Pipeline::~Pipeline() {
  // Answers handed to the pool may still schedule a retry or touch the
  // limiters: drain it first.
  work_.reset();
  // Calls awaiting Redis finish; later admissions answer "shutting down".
  if (shared_quota_ != nullptr) shared_quota_->Shutdown();
  // Runs every pending wake-up with `stopping`: waiting calls finish.
  scheduler_.reset();
  shared_quota_.reset();  // its fallback's wake-ups ran with the scheduler
  limiters_.reset();
  budget_.reset();
}

std::shared_ptr<CallHandle> Pipeline::Start(gitlab::PreparedCall call,
                                            gitlab::CallDone done) {
  auto loop =
      std::make_shared<AttemptLoop>(&parts_, std::move(call), std::move(done));
  loop->Begin();
  return loop;
}

}  // namespace gitlab_gateway::pipeline
