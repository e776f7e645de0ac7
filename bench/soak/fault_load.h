#ifndef GITLAB_GATEWAY_BENCH_SOAK_FAULT_LOAD_H_
#define GITLAB_GATEWAY_BENCH_SOAK_FAULT_LOAD_H_

// Load for bench/soak: calls spread over the fault cases of
// tests/faults/fault_cases.h (Execute and BatchExecute), checked against the
// documented outcome, and a healthy caller whose latency is recorded.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.grpc.pb.h"
#include "tests/faults/fault_cases.h"

namespace gitlab_gateway::bench {

namespace v1 = ::gitlab::gateway::v1;

// Latencies from any thread; percentiles of what was added since the last
// Take(). Thread-safe.
class LatencyLog {
 public:
  struct Summary {
    int64_t count = 0;
    double p50_ms = 0, p99_ms = 0, max_ms = 0;
  };
  void Add(absl::Duration d);
  // The summary since the previous Take(), and starts over.
  Summary Take();

 private:
  absl::Mutex mu_;
  std::vector<double> ms_ ABSL_GUARDED_BY(mu_);
};

// One Execute at a time to the healthy route on a channel of its own, every
// `pace`, from Start() to Stop(). Failures are counted, latencies logged.
// Start/Stop: the owner thread; the counters and latencies(): any thread.
class HealthyCaller {
 public:
  HealthyCaller(int port, absl::Duration pace);
  ~HealthyCaller();  // stops
  void Start();
  void Stop();
  LatencyLog& latencies() { return latencies_; }
  int64_t calls() const { return calls_.load(); }
  int64_t failures() const { return failures_.load(); }

 private:
  void Run();

  std::unique_ptr<v1::Gateway::Stub> stub_;
  const absl::Duration pace_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> calls_{0}, failures_{0};
  LatencyLog latencies_;
  std::thread thread_;
};

// Calls over the enabled fault cases (case i % n for call i), from
// `concurrency` Execute threads and `streams` BatchExecute threads (blocks of
// `batch_items`), paced at `rate` calls/s when > 0. Each answer is checked
// with CheckOutcome. Run() blocks (one caller at a time); the counters and
// tallies may be read from any thread meanwhile.
class FaultLoad {
 public:
  struct Options {
    int concurrency = 32;
    int streams = 2;
    int batch_items = 100;
    double rate = 0;
    testing::Timeouts timeouts;
    // Calls go to healthy route instead of the fault cases (the control run).
    bool healthy_only = false;
    // Only the cases whose name contains `only` (all when empty), minus
    // those whose name contains `skip` (none when empty).
    std::string only;
    std::string skip;
  };
  struct Tally {
    int64_t calls = 0;
    int64_t wrong = 0;
    std::string first_wrong;
  };

  FaultLoad(int plain_port, int https_port, Options options);

  // Makes `calls` calls (0: until `stop`), then returns.
  void Run(int64_t calls, const std::atomic<bool>* stop);

  int64_t answered() const { return answered_.load(); }
  int64_t wrong() const;
  std::map<std::string, Tally> tallies() const;
  const std::vector<const testing::FaultCase*>& cases() const { return cases_; }

 private:
  void ExecuteWorker(int64_t limit, const std::atomic<bool>* stop);
  void BatchWorker(int64_t limit, const std::atomic<bool>* stop);
  // Up to `n` next call indices: the first, -1 when the run is over, and
  // their number in `*got`. Waits for the first one's turn when paced.
  int64_t Take(int n, int64_t limit, const std::atomic<bool>* stop, int* got);
  void Record(const testing::FaultCase& c, std::string wrong);
  v1::Request RequestFor(int64_t i, const testing::FaultCase& c) const;

  const Options options_;
  std::unique_ptr<v1::Gateway::Stub> plain_, https_;
  std::vector<const testing::FaultCase*> cases_;        // all enabled
  std::vector<const testing::FaultCase*> plain_cases_;  // for streams
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> answered_{0};
  absl::Time start_;
  mutable absl::Mutex mu_;
  std::map<std::string, Tally> tallies_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gitlab_gateway::bench

#endif  // GITLAB_GATEWAY_BENCH_SOAK_FAULT_LOAD_H_
