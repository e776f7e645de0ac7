#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_EVENT_LOOP_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_EVENT_LOOP_H_

#include <curl/curl.h>

#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

namespace gitlab_gateway::engine {

// Drives one CURLM with curl_multi_socket_action on epoll (the shape of
// curl's docs/examples/ephiperfifo.c): curl's socket callback keeps the epoll
// set, its timer callback keeps a deadline, and Poll() waits for a ready
// socket, that deadline, the caller's own deadline or Wake(), then hands
// what happened to curl. It knows nothing of transfers: the Engine adds and
// reaps easy handles on multi() between polls.
//
// Sockets curl opens and closes through the engine's callbacks (Opened,
// Closing) keep their epoll registration when curl stops watching them
// between transfers ("parked"): a keep-alive connection's next transfer then
// needs no epoll_ctl, where curl's add/remove per transfer cost two. A parked
// socket that becomes ready (the peer closed it, or sent bytes nobody asked
// for) is removed from the set at once and not reported to curl, which
// checks a connection itself before reusing it. Other sockets curl watches
// (its resolver's) are added and removed as curl says.
//
// Threads: Wake() may be called from any thread (it writes an eventfd).
// Everything else runs on the loop thread, the one thread that calls Poll();
// curl's socket and timer callbacks run inside Poll() there. Init() and
// Close() run while no thread polls (before the loop starts, after it ends).
//
//   EventLoop events;
//   if (absl::Status s = events.Init(); !s.ok()) return s;
//   while (running) {
//     absl::Time now = events.Poll(next_own_deadline);
//     ... curl_multi_info_read(events.multi(), ...) ...
//   }
class EventLoop {
 public:
  EventLoop() = default;
  // Close().
  ~EventLoop();

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the epoll set, the wakeup eventfd and the CURLM, and installs
  // the socket and timer callbacks. curl_global_init must have run.
  absl::Status Init();

  // Frees the CURLM, then closes the descriptors. Idempotent. Easy handles
  // must have been removed from multi() first, and anything curl's
  // connection cache calls back into (a ConnectionGuard) must still live.
  void Close();

  // The CURLM this loop drives; set its other options after Init().
  CURLM* multi() const { return multi_; }

  // Makes the current or next Poll() return soon. Any thread.
  void Wake();

  // curl opened `fd` through the engine's open-socket callback, and will
  // close it through its close-socket callback: its registration may be
  // parked. Loop thread (curl's callbacks).
  void Opened(curl_socket_t fd);
  // curl is about to close `fd` (the kernel then drops it from the epoll
  // set). Loop thread (curl's callbacks), also from Close().
  void Closing(curl_socket_t fd);

  // epoll_ctl calls so far (for tests and bench/).
  uint64_t epoll_ctl_calls() const { return epoll_ctl_calls_; }

  // Waits (at most 60 s) until a socket curl watches is ready, curl's timer
  // or `also_by` is due, or Wake() was called; then runs curl on the ready
  // sockets and, if due, on its timeout. Returns the time after waiting.
  absl::Time Poll(absl::Time also_by);

 private:
  // epoll_wait's timeout for the earlier of curl's timer and `also_by`.
  int WaitMillis(absl::Time now, absl::Time also_by) const;

  // What epoll watches for a socket the engine opened (Opened..Closing).
  struct Watch {
    uint32_t events = 0;  // registered with epoll; 0: not in the set
    bool parked = false;  // curl does not watch it now
  };

  static int OnSocket(CURL* easy, curl_socket_t fd, int what, void* userp,
                      void* socketp) noexcept;
  // Registers `events` for `fd` (ADD or MOD, whichever the set needs).
  void Register(curl_socket_t fd, uint32_t events, bool known_in_set);
  void Unregister(curl_socket_t fd);
  static int OnTimer(CURLM* multi, long timeout_ms, void* userp) noexcept;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  CURLM* multi_ = nullptr;
  // When curl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT).
  absl::Time curl_timer_ = absl::InfiniteFuture();
  absl::flat_hash_map<curl_socket_t, Watch> owned_;
  uint64_t epoll_ctl_calls_ = 0;
};

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_EVENT_LOOP_H_
