#ifndef GITLAB_GATEWAY_SERVICE_PIPELINE_WORK_POOL_H_
#define GITLAB_GATEWAY_SERVICE_PIPELINE_WORK_POOL_H_

#include <deque>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace gitlab_gateway::pipeline {

// A few threads for work that may cost in proportion to an answer's size
// (mapping a big error body, checking a big body's UTF-8, scanning GraphQL
// errors), so that the engine's loop thread, shared by every caller, hands it
// off instead of doing it. Small answers never come here: a hand-off is a
// cost.
//
// Run may be called from any thread, also from work. The destructor runs
// whatever is still queued, then joins. Work must not block.
class WorkPool {
 public:
  explicit WorkPool(int threads);
  ~WorkPool();

  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  void Run(absl::AnyInvocable<void() &&> work);

 private:
  void Loop();
  bool Ready() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace gitlab_gateway::pipeline

#endif  // GITLAB_GATEWAY_SERVICE_PIPELINE_WORK_POOL_H_
