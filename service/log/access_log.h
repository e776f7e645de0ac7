#ifndef GITLAB_GATEWAY_SERVICE_LOG_ACCESS_LOG_H_
#define GITLAB_GATEWAY_SERVICE_LOG_ACCESS_LOG_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/log/access_record.h"

namespace gitlab_gateway::log {

// The access log: records go into a bounded in-memory queue that one writer
// thread formats (FormatAccessRecord) and writes, a batch at a time. Record
// never waits for the disk: when the queue is full the record is dropped and
// `on_drop` runs (the gateway counts it in
// gitlab_gateway_access_log_dropped_total).
//
// Record, Flush and dropped may be called from any thread; `on_drop` runs on
// the recording thread and must not block. The destructor writes what is
// queued, then joins the writer; nothing may Record after it started.
//
//   auto log = AccessLog::Open("/var/log/gateway/access.log", {}, nullptr);
//   (*log)->Record(std::move(record));
class AccessLog {
 public:
  struct Options {
    // Records waiting for the writer; beyond it they are dropped.
    size_t max_queued = 10000;
    // The writer lets records gather this long before one write, so a busy
    // gateway wakes it a few times a second instead of once per call
    // (bench/README.md, issue 12). Cut short when half the queue is used,
    // by Flush and by shutdown.
    absl::Duration batch_interval = absl::Milliseconds(100);
  };
  // Writes one batch of whole lines; runs on the writer thread only.
  using Sink = absl::AnyInvocable<void(absl::string_view lines)>;

  // `destination`: "" or "stderr" for stderr, else a file opened for
  // appending (created 0640 when missing). Fails when it cannot be opened.
  static absl::StatusOr<std::unique_ptr<AccessLog>> Open(
      const std::string& destination, Options options,
      absl::AnyInvocable<void()> on_drop);

  AccessLog(Sink sink, Options options, absl::AnyInvocable<void()> on_drop);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Queues `record`; false when the queue was full and it was dropped.
  bool Record(AccessRecord record) ABSL_LOCKS_EXCLUDED(mu_);

  // Returns once every record queued before the call was written (or
  // dropped). For tests and shutdown; it blocks.
  void Flush() ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t dropped() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  Sink sink_;  // writer thread only
  absl::AnyInvocable<void()> on_drop_;

  mutable absl::Mutex mu_;
  std::deque<AccessRecord> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t queued_total_ ABSL_GUARDED_BY(mu_) = 0;   // ever accepted
  uint64_t written_total_ ABSL_GUARDED_BY(mu_) = 0;  // of those, written
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The writer waits on wake_ for records; Flush waits on written_.
  bool writer_idle_ ABSL_GUARDED_BY(mu_) = false;
  int flushes_ ABSL_GUARDED_BY(mu_) = 0;  // Flush calls waiting
  absl::CondVar wake_;
  absl::CondVar written_;
  std::thread writer_;  // last: starts once the members above exist
};

}  // namespace gitlab_gateway::log

#endif  // GITLAB_GATEWAY_SERVICE_LOG_ACCESS_LOG_H_
