#include "service/limits/scheduler.h"

#include <pthread.h>

#include <utility>

#include "absl/time/clock.h"

namespace gitlab_gateway::limits {

Scheduler::Scheduler()
    : thread_([this] {
        pthread_setname_np(pthread_self(), "gg-scheduler");  // for top, perf
        Loop();
      }) {}

Scheduler::~Scheduler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void Scheduler::RunAt(absl::Time when, Task task) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push(Entry{when, next_seq_++, std::move(task)});
      return;
    }
  }
  task(/*shutting_down=*/true);
}

size_t Scheduler::pending() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void Scheduler::Loop() {
  mu_.Lock();
  while (true) {
    if (stopping_) break;
    absl::Time next =
        queue_.empty() ? absl::InfiniteFuture() : queue_.top().when;
    absl::Time now = absl::Now();
    if (next > now) {
      // Wakes on a new earlier entry or stop: both change the condition.
      size_t size = queue_.size();
      auto changed = [this, size, next]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || queue_.size() != size ||
               (!queue_.empty() && queue_.top().when < next);
      };
      mu_.AwaitWithDeadline(absl::Condition(&changed), next);
      continue;
    }
    Task task = std::move(queue_.top().task);
    queue_.pop();
    mu_.Unlock();
    task(/*shutting_down=*/false);
    mu_.Lock();
  }
  // Complete whatever still waits, outside the lock.
  std::vector<Task> left;
  while (!queue_.empty()) {
    left.push_back(std::move(queue_.top().task));
    queue_.pop();
  }
  mu_.Unlock();
  for (Task& task : left) task(/*shutting_down=*/true);
}

}  // namespace gitlab_gateway::limits
