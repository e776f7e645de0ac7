#ifndef GITLAB_GATEWAY_SERVICE_PIPELINE_PIPELINE_H_
#define GITLAB_GATEWAY_SERVICE_PIPELINE_PIPELINE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "service/engine/engine.h"
#include "service/limits/credential_limiters.h"
#include "service/limits/quota_store.h"
#include "service/limits/redis_quota_store.h"
#include "service/limits/retry_budget.h"
#include "service/limits/retry_policy.h"
#include "service/limits/scheduler.h"
#include "service/metrics/metrics.h"
#include "service/metrics/shared_quota_metrics.h"
#include "service/pipeline/upstream.h"
#include "service/pipeline/work_pool.h"

namespace gitlab_gateway::pipeline {

struct PipelineOptions {
  // The GitLab host, named as the domain of GitLab's errors.
  std::string domain;
  limits::LimiterOptions limiter;
  // Redis set: credentials' quotas are shared by every replica.
  limits::SharedQuotaOptions shared_quota;
  limits::RetryOptions retry;
  double retry_budget_ratio = 0.2;
  int retry_budget_min = 3;
  // Threads that map answers too big to map on the engine thread.
  int work_threads = 2;
};

// The parts an AttemptLoop uses, each owned by the Pipeline (the engine and
// metrics by its owner). Plain struct of pointers; the pipeline outlives
// every loop it starts.
struct PipelineParts {
  engine::Engine* engine;
  metrics::Metrics* metrics;
  limits::CredentialLimiters* limiters;
  limits::RetryBudget* budget;
  limits::Scheduler* scheduler;
  WorkPool* work;
  const PipelineOptions* options;
  // Not null: admission, pauses and advertisements go through the quota
  // shared in Redis (`limiters` then only mirrors them).
  limits::QuotaStore* shared_quota = nullptr;
};

// The Upstream behind the reactors: each call runs an AttemptLoop (limiter
// admission -> engine -> interpret -> retry or finish) over the shared parts.
//
// Start and NewFlow may be called from any thread.
//
// Shutdown order, stated rather than left to member order: the destructor
// first drains the WorkPool (answers handed to it finish while the scheduler
// exists), shuts the shared quota down (calls awaiting Redis finish), then
// stops the scheduler (waiting calls complete with
// GATEWAY_SHUTTING_DOWN while limiters and budget exist). The engine must
// outlive the pipeline, and must hold no transfer of it when it is destroyed
// (the gRPC server's shutdown has finished every call by then).
class Pipeline final : public Upstream {
 public:
  Pipeline(engine::Engine* engine, metrics::Metrics* metrics,
           PipelineOptions options);
  ~Pipeline() override;

  std::shared_ptr<CallHandle> Start(gitlab::PreparedCall call,
                                    gitlab::CallDone done) override;
  uint64_t NewFlow() override { return next_flow_.fetch_add(1); }

  limits::CredentialLimiters& limiters() { return *limiters_; }
  limits::RetryBudget& retry_budget() { return *budget_; }
  const PipelineOptions& options() const { return options_; }

 private:
  const PipelineOptions options_;
  std::atomic<uint64_t> next_flow_{1};
  std::unique_ptr<limits::RetryBudget> budget_;
  std::unique_ptr<limits::Scheduler> scheduler_;
  std::unique_ptr<limits::CredentialLimiters> limiters_;
  std::unique_ptr<metrics::SharedQuotaMetrics> quota_metrics_;
  std::unique_ptr<limits::RedisQuotaStore> shared_quota_;  // null: embedded
  std::unique_ptr<WorkPool> work_;
  PipelineParts parts_;
};

}  // namespace gitlab_gateway::pipeline

#endif  // GITLAB_GATEWAY_SERVICE_PIPELINE_PIPELINE_H_
