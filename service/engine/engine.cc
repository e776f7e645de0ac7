#include "service/engine/engine.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "service/engine/curl_status.h"

namespace gitlab_gateway::engine {

// One submission's state. Owned by transfers_ on the loop thread once drained.
struct Engine::Transfer {
  TransferId id = 0;
  HttpRequest request;
  Completion done;
  Engine* engine = nullptr;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  HttpResponse response;
  bool too_large = false;
  bool headers_too_large = false;
  size_t header_bytes = 0;  // of the current answer's header block
  // Response bytes charged to request.account, and the budget that refused
  // a chunk (the transfer then failed).
  size_t charged = 0;
  const ByteBudget* over_budget = nullptr;
  bool got_status_line = false;
  // The connection was ready and the request went out on it (pre-request
  // callback): from here on a failure is not a connect failure.
  bool request_sent = false;
  bool queued = true;  // counted in waiting_ until handed to curl
  absl::Time submitted;
  absl::Time started;
  char error[CURL_ERROR_SIZE] = {0};
};

namespace {

constexpr absl::Duration kExpirySweep = absl::Milliseconds(20);
constexpr int kMaxEvents = 128;

absl::Status Unavailable(absl::string_view message, absl::string_view reason) {
  return WithReason(absl::UnavailableError(message), reason);
}

absl::Status OverBudget(const ByteBudget& budget) {
  return WithReason(absl::ResourceExhaustedError(absl::StrCat(
                        "gateway overloaded: the response does not fit in ",
                        budget.Describe())),
                    "GATEWAY_OVERLOADED");
}

// Rounded up: a transfer never times out before its deadline.
long ClampMillis(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(d, absl::Milliseconds(1)));
  return static_cast<long>(std::clamp<int64_t>(ms, 1, int64_t{1} << 30));
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
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("engine: ", std::strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    return absl::InternalError(absl::StrCat("engine: ", std::strerror(errno)));
  }
  multi_ = curl_multi_init();
  if (multi_ == nullptr) return absl::InternalError("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Engine::OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Engine::OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(options_.max_in_flight));
  loop_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void Engine::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (loop_.joinable()) {
    uint64_t one = 1;
    (void)write(wake_fd_, &one, sizeof(one));
    loop_.join();
  }
}

Engine::~Engine() {
  Shutdown();
  for (CURL* easy : idle_handles_) curl_easy_cleanup(easy);
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

absl::StatusOr<TransferId> Engine::Submit(HttpRequest request,
                                          Completion done) {
  // Submissions about to take a free slot are not queued behind anything:
  // count only what would wait beyond max_in_flight.
  const size_t slots = static_cast<size_t>(options_.max_in_flight);
  const size_t busy = std::min(in_flight_.load(std::memory_order_relaxed), slots);
  if (waiting_.fetch_add(1, std::memory_order_relaxed) >=
      options_.max_queue + (slots - busy)) {
    waiting_.fetch_sub(1, std::memory_order_relaxed);
    absl::Status refused = WithReason(
        absl::ResourceExhaustedError(absl::StrCat(
            "gateway overloaded: ", options_.max_queue,
            " requests already wait for an upstream slot")),
        "GATEWAY_OVERLOADED");
    done(refused);
    return refused;
  }
  auto transfer = std::make_unique<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  transfer->engine = this;
  transfer->submitted = absl::Now();
  TransferId id = 0;
  bool wake = false;
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      waiting_.fetch_sub(1, std::memory_order_relaxed);
      refused = Unavailable("gateway is shutting down", "GATEWAY_SHUTTING_DOWN");
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
  if (wake) {
    uint64_t one = 1;
    (void)write(wake_fd_, &one, sizeof(one));
  }
  return id;
}

void Engine::Cancel(TransferId id) {
  bool wake;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    wake = incoming_.empty() && cancels_.empty();
    cancels_.push_back(id);
  }
  if (wake) {
    uint64_t one = 1;
    (void)write(wake_fd_, &one, sizeof(one));
  }
}

EngineLoad Engine::load() const {
  return EngineLoad{in_flight_.load(std::memory_order_relaxed),
                    waiting_.load(std::memory_order_relaxed)};
}

void Engine::Run() {
  epoll_event events[kMaxEvents];
  bool stop = false;
  while (!stop) {
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, WaitMillis(absl::Now()));
    int running = 0;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == wake_fd_) {
        uint64_t value;
        while (read(wake_fd_, &value, sizeof(value)) > 0) {
        }
        continue;
      }
      int flags = 0;
      if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi_, events[i].data.fd, flags, &running);
    }
    absl::Time now = absl::Now();
    if (curl_timer_ <= now) {
      curl_timer_ = absl::InfiniteFuture();
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    }
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
    Complete(id, Unavailable("gateway is shutting down",
                             "GATEWAY_SHUTTING_DOWN"));
  }
  queue_.Clear();
  ReportLoad();
}

bool Engine::DrainControl() {
  std::vector<std::unique_ptr<Transfer>> incoming;
  std::vector<TransferId> cancels;
  bool stopping;
  {
    absl::MutexLock lock(&mu_);
    incoming.swap(incoming_);
    cancels.swap(cancels_);
    stopping = stopping_;
  }
  // Submissions before cancels: a cancel may name a transfer drained now.
  for (auto& transfer : incoming) {
    TransferId id = transfer->id;
    queue_.Push(transfer->request.flow, id);
    transfers_.emplace(id, std::move(transfer));
  }
  for (TransferId id : cancels) {
    Complete(id, WithReason(absl::CancelledError("call cancelled"),
                            "CANCELLED"));
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
  in_flight_.fetch_add(1, std::memory_order_relaxed);
  const HttpRequest& req = t->request;
  curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
  curl_easy_setopt(easy, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, options_.protocol.c_str());
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  if (options_.protocol == "https") {
    // Wait for a connection being set up that may multiplex (HTTP/2 over
    // TLS) rather than open another. Over plain HTTP/1.1 nothing can be
    // multiplexed and waiting would queue a fast call behind a slow one.
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
  }
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t->error);
  guard_.Attach(easy);
  curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, &Engine::OnPrereq);
  curl_easy_setopt(easy, CURLOPT_PREREQDATA, t);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Engine::OnWrite);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Engine::OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
  if (!options_.ca_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, options_.ca_file.c_str());
  }
  // The CA bundle alone: with a CA directory set (Debian's curl default)
  // curl cannot cache the parsed store, and every new TLS connection, a
  // failing one included, re-reads the bundle on this thread (~20 ms).
  curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);
  absl::Duration remaining = req.deadline - t->started;
  if (req.deadline != absl::InfiniteFuture()) {
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ClampMillis(remaining));
  }
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   ClampMillis(std::min(remaining, options_.connect_timeout)));

  if (req.method == "GET") {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else {
    if (req.method != "POST") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    if (req.body.has_value() || req.method != "DELETE") {
      // Without a body, POST/PUT/PATCH still send Content-Length: 0.
      static const char kEmpty[] = "";
      const std::string* body = req.body.has_value() ? &*req.body : nullptr;
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(body ? body->size() : 0));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body ? body->data() : kEmpty);
    }
  }
  // curl_slist_append walks to the end of the list it is given: append to
  // the tail so that building the list stays linear.
  curl_slist* list = nullptr;
  curl_slist* tail = nullptr;
  auto append = [&](const char* line) {
    curl_slist* grown = curl_slist_append(tail, line);
    if (grown == nullptr) return false;
    if (list == nullptr) list = grown;
    tail = tail == nullptr ? grown : tail->next;
    return true;
  };
  bool appended = true;
  for (const std::string& line : req.header_lines) {
    if (!(appended = append(line.c_str()))) break;
  }
  // No 100-continue round trip; no curl default Accept/Content-Type guesses.
  if (appended) appended = append("Expect:");
  t->header_list = list;
  if (!appended) {
    Complete(t->id, WithReason(absl::ResourceExhaustedError(
                                   "out of memory building request headers"),
                               "GATEWAY_OUT_OF_MEMORY"));
    return;
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);

  CURLMcode rc = curl_multi_add_handle(multi_, easy);
  if (rc != CURLM_OK) {
    Complete(t->id, absl::InternalError(absl::StrCat(
                        "curl_multi_add_handle: ", curl_multi_strerror(rc))));
  }
}

void Engine::ReapFinished() {
  // Free the finished transfers' slots and hand them to queued work before
  // running completions: the next transfers start one callback batch sooner.
  std::vector<std::pair<std::unique_ptr<Transfer>, absl::StatusOr<HttpResponse>>>
      finished;
  int pending = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &pending)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    CURLcode code = msg->data.result;
    if (t == nullptr) continue;
    // Decided from what happened, not from the clock: curl's timer and ours
    // disagree by a millisecond now and then.
    TransferFacts facts;
    facts.too_large = t->too_large;
    facts.headers_too_large = t->headers_too_large;
    facts.max_headers = options_.max_response_headers;
    facts.max_header_bytes = options_.max_response_header_bytes;
    facts.request_sent = t->request_sent;
    facts.connect_timeout_first =
        options_.connect_timeout < t->request.deadline - t->started;
    absl::Status status = CurlResultToStatus(code, t->error, facts);
    if (!status.ok()) {
      if (t->over_budget != nullptr) status = OverBudget(*t->over_budget);
      ReleaseCharge(t);
      if (!t->got_status_line) status = WithNoResponse(std::move(status));
      finished.emplace_back(Detach(t->id), std::move(status));
      continue;
    }
    long http_code = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &http_code);
    curl_off_t total_us = 0;
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    const char* content_type = nullptr;
    curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &content_type);
    t->response.status_code = static_cast<int>(http_code);
    t->response.latency = absl::Microseconds(total_us);
    if (content_type != nullptr) t->response.content_type = content_type;
    HttpResponse response = std::move(t->response);
    finished.emplace_back(Detach(t->id), std::move(response));
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
  if (!result.ok()) ReleaseCharge(transfer.get());
  transfer->done(std::move(result));
}

void Engine::ReleaseCharge(Transfer* t) {
  // The body is discarded with the failure: its bytes go back at once.
  if (t->charged > 0) t->request.account->Release(t->charged);
  t->charged = 0;
}

std::unique_ptr<Engine::Transfer> Engine::Detach(TransferId id) {
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
  curl_multi_remove_handle(multi_, t->easy);
  curl_slist_free_all(t->header_list);
  t->header_list = nullptr;
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  if (idle_handles_.size() < static_cast<size_t>(options_.max_in_flight)) {
    curl_easy_reset(t->easy);
    idle_handles_.push_back(t->easy);
  } else {
    curl_easy_cleanup(t->easy);
  }
  t->easy = nullptr;
}

void Engine::ReportLoad() {
  EngineLoad now = load();
  if (now.in_flight == last_load_.in_flight && now.queued == last_load_.queued) {
    return;
  }
  last_load_ = now;
  if (options_.on_load) options_.on_load(now);
}

int Engine::WaitMillis(absl::Time now) const {
  absl::Time until = curl_timer_;
  if (!queue_.empty()) until = std::min(until, next_expiry_sweep_);
  if (until == absl::InfiniteFuture()) return -1;
  if (until <= now) return 0;
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(absl::Ceil(
                            until - now, absl::Milliseconds(1))),
                        60000));
}

int Engine::OnSocket(CURL* easy, curl_socket_t fd, int what, void* userp,
                     void* socketp) noexcept {
  auto* self = static_cast<Engine*>(userp);
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    curl_multi_assign(self->multi_, fd, nullptr);
    return 0;
  }
  epoll_event ev{};
  ev.data.fd = fd;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev.events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev.events |= EPOLLOUT;
  if (socketp == nullptr) {
    if (epoll_ctl(self->epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0 &&
        errno == EEXIST) {
      epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
    }
    curl_multi_assign(self->multi_, fd, self);
  } else {
    epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  }
  return 0;
}

int Engine::OnTimer(CURLM*, long timeout_ms, void* userp) noexcept {
  auto* self = static_cast<Engine*>(userp);
  // Never call curl from here: the loop acts on the deadline.
  self->curl_timer_ = timeout_ms < 0
                          ? absl::InfiniteFuture()
                          : absl::Now() + absl::Milliseconds(timeout_ms);
  return 0;
}

size_t Engine::OnWrite(char* data, size_t size, size_t n,
                       void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  size_t bytes = size * n;
  if (t->response.body.size() + bytes > t->engine->options_.max_response_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  // O(1): the budgets are atomics.
  if (t->request.account != nullptr) {
    if (!t->request.account->TryCharge(bytes, &t->over_budget)) return 0;
    t->charged += bytes;
  }
  t->response.body.append(data, bytes);
  return bytes;
}

size_t Engine::OnHeader(char* data, size_t size, size_t n,
                        void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  size_t bytes = size * n;
  absl::string_view line(data, bytes);
  if (absl::StartsWith(line, "HTTP/")) {
    t->response.headers.clear();  // a new response (after 1xx)
    t->header_bytes = 0;
    t->got_status_line = true;
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return bytes;  // blank line
  const EngineOptions& options = t->engine->options_;
  t->header_bytes += bytes;
  if (t->response.headers.size() >= options.max_response_headers ||
      t->header_bytes > options.max_response_header_bytes) {
    t->headers_too_large = true;
    return 0;  // aborts the transfer
  }
  // GitLab sends about 20 headers; grow once instead of five times.
  if (t->response.headers.empty()) t->response.headers.reserve(24);
  t->response.headers.emplace_back(
      std::string(absl::StripAsciiWhitespace(line.substr(0, colon))),
      std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  return bytes;
}

// Runs once the connection is ready, before the request is sent (again after
// curl retries on a fresh connection).
int Engine::OnPrereq(void* clientp, char* primary_ip, char* local_ip,
                     int primary_port, int local_port) noexcept {
  auto* t = static_cast<Transfer*>(clientp);
  Engine* self = t->engine;
  if (self->guard_.RefuseUnclean(t->easy, primary_ip, local_ip, primary_port,
                                 local_port)) {
    // The send fails and curl retries on a fresh connection: not sent yet.
    if (self->options_.on_unclean_connection) {
      self->options_.on_unclean_connection();
    }
    return CURL_PREREQFUNC_OK;
  }
  t->request_sent = true;
  return CURL_PREREQFUNC_OK;
}

}  // namespace gitlab_gateway::engine
