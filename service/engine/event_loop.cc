#include "service/engine/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gitlab_gateway::engine {

namespace {

constexpr int kMaxEvents = 128;

absl::Status Errno() {
  return absl::InternalError(absl::StrCat("engine: ", std::strerror(errno)));
}

}  // namespace

EventLoop::~EventLoop() { Close(); }

absl::Status EventLoop::Init() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return Errno();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) return Errno();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) return absl::InternalError("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &EventLoop::OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &EventLoop::OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  return absl::OkStatus();
}

void EventLoop::Close() {
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  multi_ = nullptr;
  if (wake_fd_ >= 0) close(wake_fd_);
  wake_fd_ = -1;
  if (epoll_fd_ >= 0) close(epoll_fd_);
  epoll_fd_ = -1;
}

void EventLoop::Wake() {
  uint64_t one = 1;
  (void)write(wake_fd_, &one, sizeof(one));
}

absl::Time EventLoop::Poll(absl::Time also_by) {
  epoll_event events[kMaxEvents];
  int n = epoll_wait(epoll_fd_, events, kMaxEvents,
                     WaitMillis(absl::Now(), also_by));
  int running = 0;
  for (int i = 0; i < n; ++i) {
    if (events[i].data.fd == wake_fd_) {
      uint64_t value;
      while (read(wake_fd_, &value, sizeof(value)) > 0) {
      }
      continue;
    }
    const curl_socket_t fd = events[i].data.fd;
    if (auto it = owned_.find(fd); it != owned_.end() && it->second.parked) {
      // An idle connection woke up: closed by the peer, or bytes nobody
      // asked for. Stop listening; curl checks it before any reuse.
      Unregister(fd);
      it->second = Watch{};
      continue;
    }
    int flags = 0;
    if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
    if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
    if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(multi_, fd, flags, &running);
  }
  absl::Time now = absl::Now();
  if (curl_timer_ <= now) {
    curl_timer_ = absl::InfiniteFuture();
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
  }
  return now;
}

int EventLoop::WaitMillis(absl::Time now, absl::Time also_by) const {
  absl::Time until = std::min(curl_timer_, also_by);
  if (until == absl::InfiniteFuture()) return -1;
  if (until <= now) return 0;
  return static_cast<int>(std::min<int64_t>(
      absl::ToInt64Milliseconds(absl::Ceil(until - now, absl::Milliseconds(1))),
      60000));
}

void EventLoop::Opened(curl_socket_t fd) { owned_[fd] = Watch{}; }

void EventLoop::Closing(curl_socket_t fd) { owned_.erase(fd); }

void EventLoop::Register(curl_socket_t fd, uint32_t events, bool known_in_set) {
  epoll_event ev{};
  ev.data.fd = fd;
  ev.events = events;
  ++epoll_ctl_calls_;
  if (known_in_set) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  } else if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0 &&
             errno == EEXIST) {
    ++epoll_ctl_calls_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
  }
}

void EventLoop::Unregister(curl_socket_t fd) {
  ++epoll_ctl_calls_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

int EventLoop::OnSocket(CURL* easy, curl_socket_t fd, int what, void* userp,
                        void* socketp) noexcept {
  auto* self = static_cast<EventLoop*>(userp);
  auto owned = self->owned_.find(fd);
  if (what == CURL_POLL_REMOVE) {
    curl_multi_assign(self->multi_, fd, nullptr);
    if (owned == self->owned_.end()) {
      self->Unregister(fd);
    } else if (owned->second.events != 0) {
      owned->second.parked = true;  // stays in the set until ready or closed
    }
    return 0;
  }
  uint32_t events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= EPOLLOUT;
  if (owned != self->owned_.end()) {
    Watch& watch = owned->second;
    watch.parked = false;
    if (watch.events != events) {
      self->Register(fd, events, /*known_in_set=*/watch.events != 0);
      watch.events = events;
    }
  } else {
    self->Register(fd, events, /*known_in_set=*/socketp != nullptr);
  }
  if (socketp == nullptr) curl_multi_assign(self->multi_, fd, self);
  return 0;
}

int EventLoop::OnTimer(CURLM*, long timeout_ms, void* userp) noexcept {
  auto* self = static_cast<EventLoop*>(userp);
  // Never call curl from here: Poll() acts on the deadline.
  self->curl_timer_ = timeout_ms < 0
                          ? absl::InfiniteFuture()
                          : absl::Now() + absl::Milliseconds(timeout_ms);
  return 0;
}

}  // namespace gitlab_gateway::engine
