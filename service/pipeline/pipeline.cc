#include "service/pipeline/pipeline.h"

#include <utility>

#include "service/pipeline/attempt_loop.h"

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
      work_(std::make_unique<WorkPool>(options_.work_threads)),
      parts_{engine,         metrics,          limiters_.get(), budget_.get(),
             scheduler_.get(), work_.get(), &options_} {}

Pipeline::~Pipeline() {
  // Answers handed to the pool may still schedule a retry or touch the
  // limiters: drain it first.
  work_.reset();
  // Runs every pending wake-up with `stopping`: waiting calls finish.
  scheduler_.reset();
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
