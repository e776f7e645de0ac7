#include "service/engine/engine.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "service/engine/status_reason.h"
#include "service/engine/transfer.h"

namespace gitlab_gateway::engine {

namespace {

constexpr absl::Duration kExpirySweep = absl::Milliseconds(20);

absl::Status Unavailable(absl::string_view message, absl::string_view reason) {
  return WithReason(absl::UnavailableError(message), reason);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(EngineOptions options) {
  if (options.max_in_flight < 1) {
    return absl::InvalidArgumentError("max_in_flight: must be at least 1");
  }
  if (options.protocol != "https" && options.protocol != "http") {
    return absl::InvalidArgumentError("protocol: must be http or https");
  }
  std::unique_ptr<Engine> engine(new Engine(std::move(options)));
  absl::Status status = engine->Init();
  if (!status.ok()) return status;
  return engine;
}

Engine::Engine(EngineOptions options) : options_(std::move(options)) {}

absl::Status Engine::Init() {
  static const CURLcode global_init = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global_init != CURLE_OK) {
    return absl::InternalError("curl_global_init failed");
  }
  absl::Status status = events_.Init();
  if (!status.ok()) return status;
  // The sockets curl opens through the guard may keep their epoll
  // registration between transfers (event_loop.h).
  guard_.ObserveSockets([this](curl_socket_t fd) { events_.Opened(fd); },
                        [this](curl_socket_t fd) { events_.Closing(fd); });
  curl_multi_setopt(events_.multi(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(events_.multi(), CURLMOPT_MAXCONNECTS,
                    static_cast<long>(options_.max_in_flight));
  // Create returns once the loop thread is named and on_loop_start ran, so
  // what they set holds for everything after it.
  absl::Notification started;
  loop_ = std::thread([this, &started] {
    pthread_setname_np(pthread_self(), "gg-engine");  // for top, perf
    if (options_.on_loop_start) options_.on_loop_start();
    started.Notify();
    Run();
  });
  started.WaitForNotification();
  return absl::OkStatus();
}

void Engine::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (loop_.joinable()) {
    events_.Wake();
    loop_.join();
  }
}

Engine::~Engine() {
  Shutdown();
  for (CURL* easy : idle_handles_) curl_easy_cleanup(easy);
  // Now, while guard_ still lives: the connection cache closes its sockets
  // through it.
  events_.Close();
}

absl::StatusOr<TransferId> Engine::Submit(HttpRequest request,
                                          Completion done) {
  // Submissions about to take a free slot are not queued behind anything:
  // count only what would wait beyond max_in_flight.
  const size_t slots = static_cast<size_t>(options_.max_in_flight);
  const size_t busy =
      std::min(in_flight_.load(std::memory_order_relaxed), slots);
  if (waiting_.fetch_add(1, std::memory_order_relaxed) >=
      options_.max_queue + (slots - busy)) {
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    absl::Status refused =
        WithReason(absl::ResourceExhaustedError(absl::StrCat(
                       "gateway overloaded: ", options_.max_queue,
                       " requests already wait for an upstream slot")),
                   "GATEWAY_OVERLOADED");
    done(refused);
    return refused;
  }
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  transfer->submitted = absl::Now();
  TransferId id = 0;
  bool wake = false;
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      waiting_.fetch_sub(1, std::memory_order_relaxed);
      refused =
          Unavailable("gateway is shutting down", "GATEWAY_SHUTTING_DOWN");
    } else {
      id = next_id_++;
      transfer->id = id;
      wake = incoming_.empty() && cancels_.empty();
      incoming_.push_back(std::move(transfer));
    }
  }
  if (!refused.ok()) {
    transfer->done(refused);
    return refused;
  }
  if (wake) events_.Wake();
  return id;
}

void Engine::Cancel(TransferId id) {
  bool wake;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    wake = incoming_.empty() && cancels_.empty() && resumes_.empty();
    cancels_.push_back(id);
  }
  if (wake) events_.Wake();
}

void Engine::Resume(TransferId id) {
  bool wake;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    wake = incoming_.empty() && cancels_.empty() && resumes_.empty();
    resumes_.push_back(id);
  }
  if (wake) events_.Wake();
}

EngineLoad Engine::load() const {
  return EngineLoad{in_flight_.load(std::memory_order_relaxed),
                    waiting_.load(std::memory_order_relaxed)};
}

void Engine::Run() {
  bool stop = false;
  while (!stop) {
    // Also wakes for the expiry sweep while anything waits in the queue.
    absl::Time now = events_.Poll(queue_.empty() ? absl::InfiniteFuture()
                                                 : next_expiry_sweep_);
    ReapFinished();
    stop = DrainControl();
    ExpireQueued(now);
    StartQueued();
    ReportLoad();
  }
  // Fail whatever is left, queued or in curl, exactly once.
  std::vector<TransferId> left;
  left.reserve(transfers_.size());
  for (const auto& [id, transfer] : transfers_) left.push_back(id);
  for (TransferId id : left) {
    Complete(id,
             Unavailable("gateway is shutting down", "GATEWAY_SHUTTING_DOWN"));
  }
  queue_.Clear();
  ReportLoad();
}

bool Engine::DrainControl() {
  std::vector<std::unique_ptr<Transfer>> incoming;
  std::vector<TransferId> cancels;
  std::vector<TransferId> resumes;
  bool stopping;
  {
    absl::MutexLock lock(&mu_);
    incoming.swap(incoming_);
    cancels.swap(cancels_);
    resumes.swap(resumes_);
    stopping = stopping_;
  }
  // Submissions before cancels: a cancel may name a transfer drained now.
  for (auto& transfer : incoming) {
    TransferId id = transfer->id;
    queue_.Push(transfer->request.flow, id);
    transfers_.emplace(id, std::move(transfer));
  }
  for (TransferId id : cancels) {
    Complete(id,
             WithReason(absl::CancelledError("call cancelled"), "CANCELLED"));
  }
  for (TransferId id : resumes) {
    auto it = transfers_.find(id);
    // curl may deliver the chunk it holds from inside curl_easy_pause; a
    // transfer finishing there is reaped on the next turn (curl's timer).
    if (it != transfers_.end() && it->second->easy != nullptr) {
      curl_easy_pause(it->second->easy, CURLPAUSE_CONT);
    }
  }
  return stopping;
}

void Engine::StartQueued() {
  while (in_flight_.load(std::memory_order_relaxed) <
             static_cast<size_t>(options_.max_in_flight) &&
         !queue_.empty()) {
    TransferId id = *queue_.Pop();
    auto it = transfers_.find(id);
    if (it == transfers_.end()) continue;  // cancelled or expired while queued
    Transfer* transfer = it->second.get();
    transfer->queued = false;
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    absl::Time now = absl::Now();
    if (transfer->request.deadline <= now) {
      Complete(id, WithReason(absl::DeadlineExceededError(
                                  "deadline passed while queued for an "
                                  "upstream slot"),
                              "QUEUE_TIMEOUT"));
      continue;
    }
    transfer->started = now;
    transfer->response.queue_wait = now - transfer->submitted;
    StartTransfer(transfer);
  }
}

void Engine::StartTransfer(Transfer* t) {
  CURL* easy;
  if (!idle_handles_.empty()) {
    easy = idle_handles_.back();
    idle_handles_.pop_back();
  } else {
    easy = curl_easy_init();
  }
  if (easy == nullptr) {
    Complete(t->id, absl::ResourceExhaustedError("curl_easy_init failed"));
    return;
  }
  t->easy = easy;
  t->resume = [this, id = t->id] { Resume(id); };
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  absl::Status configured = t->Configure(options_, guard_);
  if (!configured.ok()) {
    Complete(t->id, std::move(configured));
    return;
  }
  CURLMcode rc = curl_multi_add_handle(events_.multi(), easy);
  if (rc != CURLM_OK) {
    Complete(t->id, absl::InternalError(absl::StrCat("curl_multi_add_handle: ",
                                                     curl_multi_strerror(rc))));
  }
}

void Engine::ReapFinished() {
  // Free the finished transfers' slots and hand them to queued work before
  // running completions: the next transfers start one callback batch sooner.
  std::vector<
      std::pair<std::unique_ptr<Transfer>, absl::StatusOr<HttpResponse>>>
      finished;
  int pending = 0;
  while (CURLMsg* msg = curl_multi_info_read(events_.multi(), &pending)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    CURLcode code = msg->data.result;
    if (t == nullptr) continue;
    absl::StatusOr<HttpResponse> result = t->Finish(code);
    finished.emplace_back(Detach(t->id), std::move(result));
  }
  if (finished.empty()) return;
  StartQueued();
  for (auto& [transfer, result] : finished) transfer->done(std::move(result));
}

void Engine::ExpireQueued(absl::Time now) {
  if (queue_.empty() || now < next_expiry_sweep_) return;
  next_expiry_sweep_ = now + kExpirySweep;
  std::vector<TransferId> expired;
  queue_.RemoveIf([&](TransferId id) {
    auto it = transfers_.find(id);
    if (it == transfers_.end()) return true;  // cancelled while queued
    if (it->second->request.deadline > now) return false;
    expired.push_back(id);
    return true;
  });
  for (TransferId id : expired) {
    Complete(id, WithReason(absl::DeadlineExceededError(
                                "deadline passed while queued for an "
                                "upstream slot"),
                            "QUEUE_TIMEOUT"));
  }
}

void Engine::Complete(TransferId id, absl::StatusOr<HttpResponse> result) {
  std::unique_ptr<Transfer> transfer = Detach(id);
  if (transfer == nullptr) return;
  if (!result.ok()) transfer->ReleaseCharge();
  transfer->done(std::move(result));
}

std::unique_ptr<Transfer> Engine::Detach(TransferId id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return nullptr;  // already completed
  std::unique_ptr<Transfer> transfer = std::move(it->second);
  transfers_.erase(it);
  if (transfer->easy != nullptr) {
    Release(transfer.get());
  } else if (transfer->queued) {
    // Completed while still queued (cancel, expiry or shutdown).
    waiting_.fetch_sub(1, std::memory_order_relaxed);
  }
  return transfer;
}

void Engine::Release(Transfer* t) {
  // Removing an unfinished transfer closes its connection: upstream sees it.
  curl_multi_remove_handle(events_.multi(), t->easy);
  curl_slist_free_all(t->header_list);
  t->header_list = nullptr;
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  // A streamed transfer may have ended paused: not worth reusing.
  const bool streamed =
      t->request.sink != nullptr || t->request.source != nullptr;
  if (!streamed &&
      idle_handles_.size() < static_cast<size_t>(options_.max_in_flight)) {
    curl_easy_reset(t->easy);
    idle_handles_.push_back(t->easy);
  } else {
    curl_easy_cleanup(t->easy);
  }
  t->easy = nullptr;
}

void Engine::ReportLoad() {
  EngineLoad now = load();
  if (now.in_flight == last_load_.in_flight &&
      now.queued == last_load_.queued) {
    return;
  }
  last_load_ = now;
  if (options_.on_load) options_.on_load(now);
}

}  // namespace gitlab_gateway::engine
