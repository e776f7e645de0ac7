#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_SCHEDULER_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_SCHEDULER_H_

#include <cstdint>
#include <queue>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace gitlab_gateway::limits {

// Runs short closures at given times on one thread: limiter waits and retry
// backoffs, so no gRPC or engine thread ever sleeps. Closures must not block.
//
// RunAt may be called from any thread, also from a closure. The destructor
// runs every closure still pending at once (with `shutting_down` true) so
// waiting calls complete.
class Scheduler {
 public:
  using Task = absl::AnyInvocable<void(bool shutting_down)>;

  Scheduler();
  ~Scheduler();

  void RunAt(absl::Time when, Task task);
  size_t pending() const;

 private:
  struct Entry {
    absl::Time when;
    uint64_t seq;
    mutable Task task;
    bool operator>(const Entry& o) const {
      return when != o.when ? when > o.when : seq > o.seq;
    }
  };
  void Loop();

  mutable absl::Mutex mu_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_SCHEDULER_H_
