#include "service/limits/redis_client.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace gitlab_gateway::limits {
namespace {

constexpr size_t kMaxReplyElements = 64;

RedisValue ToValue(const redisReply* reply, int depth = 0) {
  RedisValue value;
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      value.type = RedisValue::Type::kInteger;
      value.integer = reply->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      value.type = reply->type == REDIS_REPLY_STRING
                       ? RedisValue::Type::kString
                       : RedisValue::Type::kStatus;
      value.str.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ARRAY:
      value.type = RedisValue::Type::kArray;
      // Our own scripts answer short flat arrays; anything else is capped.
      if (depth < 2) {
        for (size_t i = 0; i < reply->elements && i < kMaxReplyElements; ++i) {
          value.elements.push_back(ToValue(reply->element[i], depth + 1));
        }
      }
      break;
    default:
      break;
  }
  return value;
}

}  // namespace

RedisClient::RedisClient(Options options)
    : options_(std::move(options)),
      backoff_(options_.reconnect_min),
      shas_(options_.scripts.size()) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::thread([this] { Loop(); });
}

RedisClient::~RedisClient() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  Wake();
  thread_.join();
  // The loop has stopped: this thread owns the connection now.
  if (ctx_ != nullptr) {
    redisAsyncContext* ctx = ctx_;
    ctx_ = nullptr;
    redisAsyncFree(ctx);  // pending callbacks complete (CANCELLED below)
  }
  FailAll(absl::CancelledError("redis client shutting down"));
  std::deque<Request> queued;
  {
    absl::MutexLock lock(&mu_);
    queued.swap(queue_);
  }
  for (Request& r : queued) {
    r.done(absl::CancelledError("redis client shutting down"));
  }
  close(wake_fd_);
}

void RedisClient::Command(std::vector<std::string> args, Callback done) {
  Eval(-1, {}, std::move(args), std::move(done));
}

void RedisClient::Eval(int script, std::vector<std::string> keys,
                       std::vector<std::string> args, Callback done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(
          Request{script, std::move(keys), std::move(args), std::move(done)});
      done = nullptr;
    }
  }
  if (done) {
    done(absl::CancelledError("redis client shutting down"));
    return;
  }
  Wake();
}

bool RedisClient::connected() const {
  absl::MutexLock lock(&mu_);
  return connected_;
}

void RedisClient::Wake() {
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void RedisClient::Loop() {
  while (true) {
    std::deque<Request> taken;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
      taken.swap(queue_);
    }
    absl::Time now = absl::Now();
    if (ctx_ == nullptr && now >= next_connect_) Connect(now);
    for (Request& request : taken) {
      if (ctx_ == nullptr) {
        request.done(absl::UnavailableError("redis: not connected"));
        continue;
      }
      uint64_t id = next_id_++;
      absl::Time deadline = now + options_.timeout;
      pending_.emplace(id, Pending{std::move(request), deadline});
      deadlines_.emplace_back(deadline, id);
      Issue(id, pending_.at(id));
    }

    absl::Time wake_at = now + absl::Seconds(1);
    if (!deadlines_.empty())
      wake_at = std::min(wake_at, deadlines_.front().first);
    if (ctx_ == nullptr) wake_at = std::min(wake_at, next_connect_);
    if (ctx_ != nullptr && !ready_) {
      wake_at = std::min(wake_at, connect_started_ + options_.connect_timeout);
    }
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {-1, 0, 0}};
    nfds_t nfds = 1;
    if (ctx_ != nullptr) {
      fds[1].fd = ctx_->c.fd;
      fds[1].events = static_cast<short>((want_read_ ? POLLIN : 0) |
                                         (want_write_ ? POLLOUT : 0));
      nfds = 2;
    }
    int timeout_ms = static_cast<int>(std::clamp<int64_t>(
        absl::ToInt64Milliseconds(wake_at - absl::Now()) + 1, 0, 1000));
    int n = poll(fds, nfds, timeout_ms);
    if (n > 0 && (fds[0].revents & POLLIN)) {
      uint64_t count;
      (void)!read(wake_fd_, &count, sizeof(count));
    }
    if (n > 0 && nfds == 2 && ctx_ != nullptr) {
      short revents = fds[1].revents;
      if (want_read_ && (revents & (POLLIN | POLLHUP | POLLERR))) {
        redisAsyncHandleRead(ctx_);
      }
      if (ctx_ != nullptr && want_write_ &&
          (revents & (POLLOUT | POLLHUP | POLLERR))) {
        redisAsyncHandleWrite(ctx_);
      }
    }
    now = absl::Now();
    if (ctx_ != nullptr && !ready_ &&
        now >= connect_started_ + options_.connect_timeout) {
      redisAsyncContext* ctx = ctx_;
      ctx_ = nullptr;  // OnDisconnect is not called for a connect in progress
      redisAsyncFree(ctx);
      OnDisconnected(now);
    }
    ExpireTimedOut(now);
  }
}

void RedisClient::Connect(absl::Time now) {
  const RedisAddress& address = options_.address;
  redisAsyncContext* ctx =
      redisAsyncConnect(address.host.c_str(), address.port);
  if (ctx == nullptr) {
    OnDisconnected(now);
    return;
  }
  if (ctx->err) {
    redisAsyncFree(ctx);
    OnDisconnected(now);
    return;
  }
  ctx_ = ctx;
  ready_ = false;
  connect_started_ = now;
  ctx->data = this;
  ctx->ev.data = this;
  ctx->ev.addRead = &RedisClient::AddRead;
  ctx->ev.delRead = &RedisClient::DelRead;
  ctx->ev.addWrite = &RedisClient::AddWrite;
  ctx->ev.delWrite = &RedisClient::DelWrite;
  ctx->ev.cleanup = &RedisClient::Cleanup;
  redisAsyncSetConnectCallback(ctx, &RedisClient::OnConnect);
  redisAsyncSetDisconnectCallback(ctx, &RedisClient::OnDisconnect);
  want_write_ = true;  // the first writable event completes the connect
  // Pipelined ahead of every command: AUTH, SELECT, the scripts.
  if (!address.password.empty()) {
    const char* argv[] = {"AUTH", address.password.c_str()};
    size_t lens[] = {4, address.password.size()};
    redisAsyncCommandArgv(ctx, nullptr, nullptr, 2, argv, lens);
  }
  if (address.db != 0) {
    std::string db = absl::StrCat(address.db);
    const char* argv[] = {"SELECT", db.c_str()};
    size_t lens[] = {6, db.size()};
    redisAsyncCommandArgv(ctx, nullptr, nullptr, 2, argv, lens);
  }
  for (size_t i = 0; i < options_.scripts.size(); ++i) {
    const std::string& text = options_.scripts[i];
    const char* argv[] = {"SCRIPT", "LOAD", text.c_str()};
    size_t lens[] = {6, 4, text.size()};
    redisAsyncCommandArgv(ctx, &RedisClient::OnScriptLoaded,
                          reinterpret_cast<void*>(i), 3, argv, lens);
  }
}

void RedisClient::Issue(uint64_t id, Pending& pending) {
  Request& r = pending.request;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  std::string numkeys;
  auto add = [&](const std::string& s) {
    argv.push_back(s.data());
    lens.push_back(s.size());
  };
  static const std::string kEvalSha = "EVALSHA", kEval = "EVAL";
  if (r.script >= 0) {
    const std::string& sha = shas_[r.script];
    if (!sha.empty() && !pending.eval_sent) {
      add(kEvalSha);
      add(sha);
    } else {
      pending.eval_sent = true;
      add(kEval);
      add(options_.scripts[r.script]);
    }
    numkeys = absl::StrCat(r.keys.size());
    add(numkeys);
    for (const std::string& k : r.keys) add(k);
  }
  for (const std::string& a : r.args) add(a);
  if (redisAsyncCommandArgv(ctx_, &RedisClient::OnReply,
                            reinterpret_cast<void*>(id),
                            static_cast<int>(argv.size()), argv.data(),
                            lens.data()) != REDIS_OK) {
    Complete(id, absl::UnavailableError("redis: connection closing"));
  }
}

void RedisClient::Complete(uint64_t id, absl::StatusOr<RedisValue> value) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // timed out already
  Callback done = std::move(it->second.request.done);
  pending_.erase(it);
  bool stopping;
  {
    absl::MutexLock lock(&mu_);
    stopping = stopping_;
  }
  if (stopping && !value.ok()) {
    value = absl::CancelledError("redis client shutting down");
  }
  done(std::move(value));
}

void RedisClient::FailAll(const absl::Status& status) {
  std::vector<uint64_t> ids;
  ids.reserve(pending_.size());
  for (const auto& [id, pending] : pending_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) Complete(id, status);
  deadlines_.clear();
}

void RedisClient::ExpireTimedOut(absl::Time now) {
  while (!deadlines_.empty() && deadlines_.front().first <= now) {
    uint64_t id = deadlines_.front().second;
    deadlines_.pop_front();
    Complete(id, absl::DeadlineExceededError(
                     absl::StrCat("redis: no answer within ",
                                  absl::FormatDuration(options_.timeout))));
  }
  if (pending_.empty()) deadlines_.clear();
}

void RedisClient::OnDisconnected(absl::Time now) {
  ctx_ = nullptr;
  ready_ = false;
  want_read_ = want_write_ = false;
  {
    absl::MutexLock lock(&mu_);
    connected_ = false;
  }
  // Whatever hiredis did not answer with NULL already.
  FailAll(absl::UnavailableError("redis: connection lost"));
  next_connect_ = now + backoff_;
  backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
  std::fill(shas_.begin(), shas_.end(), std::string());
}

void RedisClient::OnReply(redisAsyncContext* ctx, void* reply, void* privdata) {
  auto* self = static_cast<RedisClient*>(ctx->data);
  uint64_t id = reinterpret_cast<uint64_t>(privdata);
  auto* r = static_cast<redisReply*>(reply);
  if (r == nullptr) {
    self->Complete(id, absl::UnavailableError("redis: connection lost"));
    return;
  }
  if (r->type != REDIS_REPLY_ERROR) {
    self->Complete(id, ToValue(r));
    return;
  }
  std::string message(r->str, r->len);
  auto it = self->pending_.find(id);
  if (absl::StartsWith(message, "NOSCRIPT") && it != self->pending_.end() &&
      it->second.request.script >= 0 && !it->second.eval_sent &&
      self->ctx_ != nullptr) {
    // Flushed or a new server: run the text (and reload it after reconnect).
    it->second.eval_sent = true;
    self->Issue(id, it->second);
    return;
  }
  self->Complete(
      id, absl::FailedPreconditionError(absl::StrCat("redis: ", message)));
}

void RedisClient::OnScriptLoaded(redisAsyncContext* ctx, void* reply,
                                 void* privdata) {
  auto* self = static_cast<RedisClient*>(ctx->data);
  auto* r = static_cast<redisReply*>(reply);
  size_t index = reinterpret_cast<size_t>(privdata);
  if (r != nullptr && r->type == REDIS_REPLY_STRING &&
      index < self->shas_.size()) {
    self->shas_[index].assign(r->str, r->len);
  }
}

void RedisClient::OnConnect(const redisAsyncContext* ctx, int status) {
  auto* self = static_cast<RedisClient*>(ctx->data);
  if (status != REDIS_OK) {
    // hiredis frees the context right after this callback.
    self->OnDisconnected(absl::Now());
    return;
  }
  self->ready_ = true;
  self->backoff_ = self->options_.reconnect_min;
  absl::MutexLock lock(&self->mu_);
  self->connected_ = true;
}

void RedisClient::OnDisconnect(const redisAsyncContext* ctx, int /*status*/) {
  auto* self = static_cast<RedisClient*>(ctx->data);
  if (self->ctx_ == ctx) self->OnDisconnected(absl::Now());
}

void RedisClient::AddRead(void* data) {
  static_cast<RedisClient*>(data)->want_read_ = true;
}
void RedisClient::DelRead(void* data) {
  static_cast<RedisClient*>(data)->want_read_ = false;
}
void RedisClient::AddWrite(void* data) {
  static_cast<RedisClient*>(data)->want_write_ = true;
}
void RedisClient::DelWrite(void* data) {
  static_cast<RedisClient*>(data)->want_write_ = false;
}
void RedisClient::Cleanup(void* data) {
  auto* self = static_cast<RedisClient*>(data);
  self->want_read_ = self->want_write_ = false;
}

}  // namespace gitlab_gateway::limits
