#ifndef GITLAB_GATEWAY_SERVICE_AUTH_CALLERS_FILE_H_
#define GITLAB_GATEWAY_SERVICE_AUTH_CALLERS_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/auth/callers_table.h"

namespace gitlab_gateway::auth {

// The callers file (--callers_file, typically a mounted Kubernetes Secret),
// reloaded when it changes: a thread of its own reads the file every
// `interval` and, when its content differs from the last one read, parses
// it and swaps the table. Calls in flight keep the table they looked up.
// A reload that fails (unreadable, malformed) keeps the previous table and
// logs once, naming the file and the line, until the content changes again.
//
// Open may be called from any thread; table() from any thread (RPC
// handlers); Poll from any thread (the reload thread, tests).
class CallersFile {
 public:
  // Loads `path` or fails naming it; then starts the reload thread
  // (none when `interval` is infinite).
  static absl::StatusOr<std::unique_ptr<CallersFile>> Open(
      std::string path, absl::Duration interval);
  // Stops the reload thread.
  ~CallersFile();
  CallersFile(const CallersFile&) = delete;
  CallersFile& operator=(const CallersFile&) = delete;

  // The table in force. Never null.
  std::shared_ptr<const CallersTable> table() const ABSL_LOCKS_EXCLUDED(mu_);
  // Whether the table in force names `name`. Looked up under the lock: the
  // caller never holds (nor frees) a replaced table.
  bool HasName(absl::string_view name) const ABSL_LOCKS_EXCLUDED(mu_);

  // Reads the file once, as the reload thread does.
  void Poll() ABSL_LOCKS_EXCLUDED(mu_);

  // Tables loaded so far (1 after Open), and reloads refused.
  int64_t loads() const ABSL_LOCKS_EXCLUDED(mu_);
  int64_t failures() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits up to `timeout` for loads() >= `loads`; returns whether it came.
  bool AwaitLoads(int64_t loads, absl::Duration timeout) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Waits up to `timeout` for failures() >= `failures`.
  bool AwaitFailures(int64_t failures, absl::Duration timeout) const
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  CallersFile(std::string path, absl::Duration interval)
      : path_(std::move(path)), interval_(interval) {}
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  const std::string path_;
  const absl::Duration interval_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const CallersTable> table_ ABSL_GUARDED_BY(mu_);
  // The content last read, loaded or refused: unchanged content is neither
  // parsed nor logged again.
  std::string last_content_ ABSL_GUARDED_BY(mu_);
  bool last_read_failed_ ABSL_GUARDED_BY(mu_) = false;
  int64_t loads_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// The whole file at `path`, at most CallersTable::kMaxBytes + 1 bytes
// (enough for Parse to refuse a larger one). Errors name the path.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path);

}  // namespace gitlab_gateway::auth

#endif  // GITLAB_GATEWAY_SERVICE_AUTH_CALLERS_FILE_H_
