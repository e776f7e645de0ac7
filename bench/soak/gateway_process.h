#ifndef GITLAB_GATEWAY_BENCH_SOAK_GATEWAY_PROCESS_H_
#define GITLAB_GATEWAY_BENCH_SOAK_GATEWAY_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace gitlab_gateway::bench {

// What /proc says about a process at one moment.
struct ProcessSample {
  double rss_mb = 0;  // VmRSS
  int threads = 0;    // Threads
  int fds = 0;        // entries of /proc/<pid>/fd
  double cpu_s = 0;   // utime + stime so far, all threads
};

// Reads /proc/<pid>; zeros when the process is gone. Any thread.
ProcessSample SampleProcess(pid_t pid);

// A gitlab-gateway binary started as a child process on 127.0.0.1:0 with
// `flags`, its stderr drained by a thread (the log is kept in memory; the
// last lines are shown when it dies early). Stop() sends SIGTERM and waits
// (SIGKILL after 30 s); the destructor stops it too. Owner thread only.
class GatewayProcess {
 public:
  static absl::StatusOr<std::unique_ptr<GatewayProcess>> Start(
      const std::string& binary, const std::vector<std::string>& flags);
  ~GatewayProcess();

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // The exit status of Stop() (as from waitpid), -1 before.
  int Stop();
  std::string LogTail() const;

 private:
  GatewayProcess() = default;
  void Drain(int fd);

  pid_t pid_ = -1;
  int port_ = 0;
  int exit_status_ = -1;
  std::thread drain_;
  mutable absl::Mutex mu_;
  std::string log_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gitlab_gateway::bench

#endif  // GITLAB_GATEWAY_BENCH_SOAK_GATEWAY_PROCESS_H_
