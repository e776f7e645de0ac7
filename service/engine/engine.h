#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_ENGINE_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_ENGINE_H_

#include <curl/curl.h>

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/engine/connection_guard.h"
#include "service/engine/event_loop.h"
#include "service/engine/fair_queue.h"
#include "service/engine/http_types.h"

namespace gitlab_gateway::engine {

struct EngineLoad {
  size_t in_flight = 0;  // transfers handed to curl
  size_t queued = 0;     // accepted, waiting for an in-flight slot
};

struct EngineOptions {
  // Transfers handed to curl at once; the rest wait in the queue.
  int max_in_flight = 64;
  // Submissions waiting beyond max_in_flight; past it Submit refuses at once.
  size_t max_queue = 10000;
  // A response body larger than this fails the transfer (RESPONSE_TOO_LARGE).
  size_t max_response_bytes = size_t{64} << 20;
  // An answer (each 1xx included) with more header lines or bytes than this
  // fails the transfer (UPSTREAM_PROTOCOL_ERROR): everything downstream of the
  // engine may then treat the header list as small.
  size_t max_response_headers = 256;
  size_t max_response_header_bytes = size_t{256} << 10;
  absl::Duration connect_timeout = absl::Seconds(10);
  // The only protocol curl may speak: "https" or "http".
  std::string protocol = "https";
  // CA bundle for TLS; empty means the system store.
  std::string ca_file;
  std::string user_agent = "gitlab-gateway";
  // Called on the loop thread whenever the load changed (for gauges).
  std::function<void(const EngineLoad&)> on_load;
  // Called on the loop thread for each idle HTTP/1.x connection refused
  // because it held unrequested bytes (see ConnectionGuard).
  std::function<void()> on_unclean_connection;
  // Called once on the loop thread before its first poll, and before Create
  // returns (the gateway puts the loop back under SCHED_OTHER there:
  // server/cpu_scheduling.h).
  std::function<void()> on_loop_start;
};

// One submission's state (transfer.h).
struct Transfer;

// The shared HTTP engine: one loop thread owns one CURLM and drives it with
// curl_multi_socket_action on epoll. Other threads hand it work through a
// queue and an eventfd wakeup; nothing but the loop thread touches curl.
// This class keeps the bookkeeping (queue, slots, handle pool, completions);
// EventLoop drives the sockets and curl's timer, Transfer configures one
// easy handle and runs its callbacks.
//
// Waiting transfers are served round-robin across HttpRequest::flow, so one
// big batch cannot starve other callers.
//
// Submit, Cancel, Resume and load() may be called from any thread.
// Completions run on the loop thread, exactly once per accepted submission.
//
//   auto engine = Engine::Create(options);
//   auto id = (*engine)->Submit(std::move(request), [](auto result) { ... });
//   (*engine)->Cancel(*id);  // completion gets CANCELLED unless already done
class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(EngineOptions options);

  // Stops the loop: transfers still pending complete with UNAVAILABLE
  // (GATEWAY_SHUTTING_DOWN) before it returns, and later submissions are
  // refused the same way. Idempotent; any thread but the loop's.
  void Shutdown();
  // Shutdown(), then frees curl.
  ~Engine();

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Accepts the request or refuses it at once with RESOURCE_EXHAUSTED
  // (GATEWAY_OVERLOADED) when the queue is full, or UNAVAILABLE after
  // shutdown. `done` runs exactly once either way: for a refusal, on the
  // calling thread before Submit returns the same status.
  absl::StatusOr<TransferId> Submit(HttpRequest request, Completion done);

  // Removes the transfer from the queue or from curl; its completion gets
  // CANCELLED. A no-op when the transfer already completed.
  void Cancel(TransferId id);

  // Unpauses a transfer whose body sink or source paused it (see
  // body_stream.h). A no-op when it is not paused or already completed.
  void Resume(TransferId id);

  EngineLoad load() const;

 private:
  explicit Engine(EngineOptions options);
  absl::Status Init();
  void Run();

  // Loop thread only.
  bool DrainControl();
  void StartQueued();
  void StartTransfer(Transfer* transfer);
  void ReapFinished();
  void ExpireQueued(absl::Time now);
  void Complete(TransferId id, absl::StatusOr<HttpResponse> result);
  // Removes the transfer (from curl too) without running its completion.
  std::unique_ptr<Transfer> Detach(TransferId id);
  void Release(Transfer* transfer);
  void ReportLoad();

  const EngineOptions options_;
  std::thread loop_;

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Transfer>> incoming_ ABSL_GUARDED_BY(mu_);
  std::vector<TransferId> cancels_ ABSL_GUARDED_BY(mu_);
  std::vector<TransferId> resumes_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  TransferId next_id_ ABSL_GUARDED_BY(mu_) = 1;

  // Submitted and not yet handed to curl; bounds the queue across threads.
  std::atomic<size_t> waiting_{0};
  std::atomic<size_t> in_flight_{0};

  // Loop thread only.
  absl::flat_hash_map<TransferId, std::unique_ptr<Transfer>> transfers_;
  FairQueue queue_;
  std::vector<CURL*> idle_handles_;
  // Outlives the CURLM (~Engine closes events_ first): the connection cache
  // closes sockets through it.
  ConnectionGuard guard_;
  // epoll, the wakeup eventfd and the CURLM. Wake() from any thread, the
  // rest on the loop thread.
  EventLoop events_;
  absl::Time next_expiry_sweep_ = absl::InfinitePast();
  EngineLoad last_load_;
};

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_ENGINE_H_
