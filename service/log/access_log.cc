#include "service/log/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gitlab_gateway::log {
namespace {

// Lines formatted between two yields of the writer (a few microseconds each).
constexpr uint64_t kYieldEvery = 32;

// write(2) until done; a failing disk loses lines, never blocks the gateway
// beyond the writer thread.
void WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Owns the fd of a log file (not stderr's).
struct FdSink {
  explicit FdSink(int fd, bool owned) : fd(fd), owned(owned) {}
  FdSink(FdSink&& other) noexcept : fd(other.fd), owned(other.owned) {
    other.owned = false;
  }
  ~FdSink() {
    if (owned) ::close(fd);
  }
  void operator()(absl::string_view lines) const { WriteAll(fd, lines); }
  int fd;
  bool owned;
};

}  // namespace

absl::StatusOr<std::unique_ptr<AccessLog>> AccessLog::Open(
    const std::string& destination, Options options,
    absl::AnyInvocable<void()> on_drop) {
  if (destination.empty() || destination == "stderr") {
    return std::make_unique<AccessLog>(FdSink(STDERR_FILENO, false), options,
                                       std::move(on_drop));
  }
  int fd = ::open(destination.c_str(),
                  O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "access_log: cannot open ", destination, ": ", std::strerror(errno)));
  }
  return std::make_unique<AccessLog>(FdSink(fd, true), options,
                                     std::move(on_drop));
}

AccessLog::AccessLog(Sink sink, Options options,
                     absl::AnyInvocable<void()> on_drop)
    : options_(options),
      sink_(std::move(sink)),
      on_drop_(std::move(on_drop)),
      writer_([this] { Run(); }) {}

AccessLog::~AccessLog() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.Signal();
  writer_.join();
}

bool AccessLog::Record(AccessRecord record) {
  bool accepted = false;
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (queue_.size() < options_.max_queued) {
      queue_.push_back(std::move(record));
      ++queued_total_;
      accepted = true;
      // Only an idle writer needs the signal (a gathering or busy one takes
      // the whole queue at its next write), and a gathering one once the
      // queue is half used.
      wake = writer_idle_ || queue_.size() == options_.max_queued / 2;
      writer_idle_ = false;
    } else {
      ++dropped_;
    }
  }
  if (wake) wake_.Signal();
  if (!accepted && on_drop_) on_drop_();
  return accepted;
}

void AccessLog::Flush() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = queued_total_;
  ++flushes_;
  wake_.Signal();  // ends the writer's gathering interval
  while (written_total_ < target) written_.Wait(&mu_);
  --flushes_;
}

uint64_t AccessLog::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

void AccessLog::Run() {
  std::deque<AccessRecord> batch;
  std::string lines;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) {
        writer_idle_ = true;
        wake_.Wait(&mu_);
      }
      writer_idle_ = false;
      // Let records gather: one write for many calls.
      const absl::Time until = absl::Now() + options_.batch_interval;
      while (!stopping_ && flushes_ == 0 &&
             queue_.size() < options_.max_queued / 2) {
        if (wake_.WaitWithDeadline(&mu_, until)) break;  // the interval ended
      }
      if (queue_.empty()) return;  // stopping, and everything written
      batch.swap(queue_);
    }
    lines.clear();
    const uint64_t n = batch.size();
    for (uint64_t i = 1; !batch.empty(); ++i) {
      lines.append(FormatAccessRecord(batch.front()));
      batch.pop_front();
      // Under --sched_batch (cpu_scheduling.h) a woken call-path thread does
      // not preempt this one: it waits until this one blocks or the tick
      // ends its slice, a millisecond or more for a batch of thousands of
      // lines. Giving the core up every kYieldEvery lines keeps that wait
      // to a few microseconds (bench/README.md: added latency at one call
      // at a time).
      if (i % kYieldEvery == 0) std::this_thread::yield();
    }
    sink_(lines);
    {
      absl::MutexLock lock(&mu_);
      written_total_ += n;
    }
    written_.SignalAll();
  }
}

}  // namespace gitlab_gateway::log
