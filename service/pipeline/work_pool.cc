#include "service/pipeline/work_pool.h"

#include <pthread.h>

#include <utility>

namespace gitlab_gateway::pipeline {

WorkPool::WorkPool(int threads) {
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "gg-work");  // for top, perf
      Loop();
    });
  }
}

WorkPool::~WorkPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

void WorkPool::Run(absl::AnyInvocable<void() &&> work) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(work));
}

bool WorkPool::Ready() const { return stopping_ || !queue_.empty(); }

void WorkPool::Loop() {
  while (true) {
    absl::AnyInvocable<void() &&> work;
    {
      absl::MutexLock lock(&mu_, absl::Condition(this, &WorkPool::Ready));
      // Drained before stopping: queued work completes calls.
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(work)();
  }
}

}  // namespace gitlab_gateway::pipeline
