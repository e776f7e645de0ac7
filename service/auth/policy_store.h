#ifndef GITLAB_GATEWAY_SERVICE_AUTH_POLICY_STORE_H_
#define GITLAB_GATEWAY_SERVICE_AUTH_POLICY_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/auth/policy.h"

namespace gitlab_gateway::auth {

// Reads and checks a policy file once; errors name it ("--policy_file
// \"<path>\": ..."). Reads a file; any thread.
absl::StatusOr<std::shared_ptr<const Policy>> LoadPolicyFile(
    const std::string& path,
    const absl::flat_hash_set<std::string>& credential_names);

// The policy in force: the --policy_file, reloaded when its contents change.
// A thread of its own reads the file every poll_interval (off the call
// path); a new valid file replaces the policy at once for calls that start
// after, a bad one keeps the old policy and is logged once (until the file
// changes again). Calls read current() (a shared_ptr copy under a mutex).
//
// current(), generation(), failed_reloads() and WaitFor*() may be called
// from any thread; the destructor stops the poller and must not run on it.
class PolicyStore {
 public:
  struct Options {
    std::string path;
    // Names the gateway holds ("default" included when it has a default
    // token); rules naming others are refused.
    absl::flat_hash_set<std::string> credential_names;
    absl::Duration poll_interval = absl::Seconds(2);
  };

  // Reads and checks the file; an error names it ("--policy_file "...": ..."),
  // so that a gateway with a bad policy does not start.
  static absl::StatusOr<std::unique_ptr<PolicyStore>> Open(Options options);
  // A fixed policy, no file and no thread (no --policy_file: Policy::Empty).
  explicit PolicyStore(std::shared_ptr<const Policy> fixed);
  ~PolicyStore();

  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;

  std::shared_ptr<const Policy> current() const;
  // Whether the policy in force has a rule for `caller_name`. Looked up
  // under the lock: the caller never holds (nor frees) a replaced policy.
  bool HasRule(absl::string_view caller_name) const;
  // 1 after Open, +1 per successful reload.
  uint64_t generation() const;
  // Reloads refused (bad file, unreadable file), each counted once.
  uint64_t failed_reloads() const;
  // For tests: true once generation() >= n (failed_reloads() >= n), false
  // after `timeout`.
  bool WaitForGeneration(uint64_t n, absl::Duration timeout) const;
  bool WaitForFailedReloads(uint64_t n, absl::Duration timeout) const;

 private:
  explicit PolicyStore(Options options);
  void Poll();
  void CheckFile();

  const Options options_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Policy> policy_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_reloads_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // Poller thread only: what the file held when last read.
  std::string last_text_;
  std::string last_error_;
  std::thread poller_;
};

}  // namespace gitlab_gateway::auth

#endif  // GITLAB_GATEWAY_SERVICE_AUTH_POLICY_STORE_H_
