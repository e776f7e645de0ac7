#include "service/server/memory_trimmer.h"

#include <malloc.h>

#include <utility>

#include "absl/time/clock.h"

namespace gitlab_gateway::server {

MemoryTrimmer::MemoryTrimmer(Options options, std::function<void()> trim)
    : options_(options), trim_(std::move(trim)) {}

void MemoryTrimmer::DefaultTrim() { malloc_trim(0); }

void MemoryTrimmer::OnLoad(size_t load) {
  if (options_.burst == 0) return;
  {
    absl::MutexLock lock(&mu_);
    load_ = load;
    if (load > high_) high_ = load;
    if (load != 0 || armed_ || high_ < options_.burst) return;
    armed_ = true;
  }
  timer_.RunAt(absl::Now() + options_.quiet, [this](bool shutting_down) {
    if (!shutting_down) Fire();
  });
}

void MemoryTrimmer::Fire() {
  {
    absl::MutexLock lock(&mu_);
    armed_ = false;
    // Busy again: the next return to zero re-arms (high_ is kept).
    if (load_ != 0) return;
    high_ = 0;
    ++trims_;
  }
  trim_();
}

uint64_t MemoryTrimmer::trims() const {
  absl::MutexLock lock(&mu_);
  return trims_;
}

}  // namespace gitlab_gateway::server
