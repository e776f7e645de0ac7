#ifndef GITLAB_GATEWAY_SERVICE_SERVER_MEMORY_TRIMMER_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_MEMORY_TRIMMER_H_

#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/limits/scheduler.h"

namespace gitlab_gateway::server {

// Hands freed heap back to the kernel after a burst. A burst of thousands of
// held calls leaves most of its memory (gRPC's per-call arenas, ~12 KiB
// each) in malloc's free lists, so RSS stays at the peak although the
// gateway is idle. Once the load has been at or above `burst` and then stays
// at zero for `quiet`, `trim` runs once (malloc_trim(0) by default) on the
// trimmer's own timer thread.
//
// OnLoad (the engine's load whenever it changes) may be called from any
// thread; the trim is skipped (and re-armed by the next zero) when the last
// reported load is no longer zero.
class MemoryTrimmer {
 public:
  struct Options {
    size_t burst = 1000;  // 0 turns trimming off
    absl::Duration quiet = absl::Milliseconds(500);
  };

  explicit MemoryTrimmer(Options options,
                         std::function<void()> trim = DefaultTrim);

  void OnLoad(size_t load);
  uint64_t trims() const;

  static void DefaultTrim();

 private:
  void Fire();

  const Options options_;
  const std::function<void()> trim_;

  mutable absl::Mutex mu_;
  size_t load_ ABSL_GUARDED_BY(mu_) = 0;
  size_t high_ ABSL_GUARDED_BY(mu_) = 0;
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t trims_ ABSL_GUARDED_BY(mu_) = 0;
  // Last: destroyed first, so no timer outlives the state it reads.
  limits::Scheduler timer_;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_MEMORY_TRIMMER_H_
