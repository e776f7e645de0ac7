#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_FAKE_GITLAB_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_FAKE_GITLAB_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace gitlab_gateway::testing {

// Large bodies without holding them: a deterministic byte pattern for
// answers (Reply::pattern_bytes) and a hash for requests. Pure; any thread.
inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;
// Writes pattern bytes [offset, offset + size) to `out`.
void FillPattern(uint64_t offset, char* out, size_t size);
// 64-bit FNV-1a of `bytes`, continuing from `hash`.
uint64_t Fnv1a(absl::string_view bytes, uint64_t hash = kFnvOffset);

// One HTTP request as the fake received it. Plain value type; any thread.
struct RecordedRequest {
  std::string method;  // "GET"
  // Raw request-target as received: "/api/v4/projects/a%2Fb?x=1&y=%2B".
  std::string target;
  std::string path;   // target before '?', NOT percent-decoded
  std::string query;  // after '?', raw, "" when none
  // In order, names as received (case kept).
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // empty when the body was only hashed (SetMaxStoredBody)
  // The body's length and Fnv1a hash, also when it was not stored.
  size_t body_size = 0;
  uint64_t body_hash = kFnvOffset;
  int connection_id = 0;  // distinct per TCP connection (shows keep-alive)
  absl::Time received_at;

  // Value of the first header named `name` (ASCII case-insensitive).
  std::optional<std::string> Header(absl::string_view name) const;
};

// What the fake does with one request. Plain value type; any thread.
//
//   fake.Enqueue(Reply::Json(429, R"({"message":"slow down"})")
//                    .WithHeader("Retry-After", "1"));
//   fake.Enqueue(Reply::Do(Reply::Action::kReset));
struct Reply {
  enum class Action {
    // Normal response. Content-Length is added unless `headers` already hold
    // Content-Length or Transfer-Encoding (so a test can script a lie or a
    // pre-chunked body). "Connection: close" is added when the fake closes.
    kRespond,
    kReset,     // abort with RST (SO_LINGER 0) before sending any byte
    kClose,     // close cleanly (FIN) without sending any byte
    kStall,     // never answer; hold until the client closes or the fake stops
    kDrip,      // status+headers (with Content-Length), then one body byte per
                // drip_interval; the connection stays usable afterwards
    kTruncate,  // headers with Content-Length > body.size(), the body, close
    kRaw,       // `body` verbatim, no status line or headers, then close (FIN):
                // garbage, a malformed status line, HTTP/0.9
    kInformational,  // a 1xx head ("HTTP/1.1 <status>" when status is 1xx,
                     // else 100 Continue) every drip_interval, forever: holds
                     // until the client closes or the fake stops
  };
  int status = 200;
  // Sent as given, in order; duplicates allowed.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Wait before acting. Ends early (connection dropped) when the client closes
  // or the fake stops.
  absl::Duration delay = absl::ZeroDuration();
  Action action = Action::kRespond;
  absl::Duration drip_interval = absl::Milliseconds(10);
  // Raw bytes the fake writes on the connection after this reply, unrequested
  // (e.g. a second complete response), `unsolicited_delay` after the reply
  // was sent; then it reads the next request. Counted in unsolicited_sent().
  // Only for kRespond replies that keep the connection open.
  std::string unsolicited{};
  absl::Duration unsolicited_delay = absl::Milliseconds(50);
  // When true, the unsolicited bytes also wait for FakeGitLab::
  // ReleaseUnsolicited() (one release per held reply), so a test can have
  // the client read the whole reply first: bytes arriving in the same read
  // as the reply are a different case (curl closes such a connection).
  bool hold_unsolicited = false;

  // When set (kRespond, kTruncate), the body is pattern bytes [pattern_offset,
  // pattern_offset + pattern_bytes) generated while sending (FillPattern),
  // instead of `body`: answers of any size without holding them.
  uint64_t pattern_bytes = 0;
  uint64_t pattern_offset = 0;

  static Reply Json(int status, std::string body);  // application/json
  static Reply Text(int status, std::string body);  // text/plain; charset=utf-8
  // A reply that only performs `action` (status 200, no body).
  static Reply Do(Action action);
  // kRaw: `bytes` instead of an HTTP response, then close.
  static Reply Raw(std::string bytes);
  Reply& WithHeader(std::string name, std::string value);
  Reply& WithDelay(absl::Duration d);
};

// Computes the reply for a request that has no scripted reply. Called
// concurrently from connection threads; must be thread-safe.
using Handler = std::function<Reply(const RecordedRequest&)>;

// A programmable GitLab stand-in: an HTTP/1.1 keep-alive server on
// 127.0.0.1:<ephemeral port>, one thread per connection. It records every
// request and answers with scripted replies (Enqueue) first, then the handler.
//
// All public methods are thread-safe and may be called from any thread, also
// while requests are being served (except the destructor, obviously).
//
//   FakeGitLab fake;
//   fake.Enqueue(Reply::Json(404, R"({"message":"404 Not Found"})"));
//   ... point the client at fake.base_url() ...
//   ASSERT_TRUE(fake.WaitForRequests(1, absl::Seconds(5)));
//   EXPECT_EQ(fake.requests()[0].path, "/api/v4/projects/a%2Fb");
class FakeGitLab {
 public:
  // Binds 127.0.0.1 port 0 and starts serving at once. Aborts the process if
  // the socket cannot be set up (a test cannot proceed without it).
  FakeGitLab();
  // Stops: interrupts delays, stalls and drips, closes every connection and
  // joins every thread. Does not wait for clients, but does wait for handler
  // calls in progress (a handler must not block forever).
  ~FakeGitLab();

  FakeGitLab(const FakeGitLab&) = delete;
  FakeGitLab& operator=(const FakeGitLab&) = delete;

  int port() const { return port_; }
  std::string base_url() const;  // "http://127.0.0.1:<port>"

  // Default: 200 application/json {"ok":true}.
  void SetHandler(Handler handler);
  // Request bodies longer than this are hashed while read, not stored
  // (RecordedRequest::body stays empty). Default: all stored.
  void SetMaxStoredBody(size_t bytes);
  // Scripted replies are used first, in order, one per request.
  void Enqueue(Reply reply);

  // Every request received so far, in arrival order. A request is recorded
  // once its head and body are read, before it is answered.
  std::vector<RecordedRequest> requests() const;
  size_t request_count() const;
  // True once request_count() >= n, false after `timeout`.
  bool WaitForRequests(size_t n, absl::Duration timeout) const;

  int open_connections() const;      // client connections currently open
  int connections_accepted() const;  // total since start
  // Connections the client closed (EOF or RST seen by the fake), total. Closes
  // the fake initiates (Connection: close, kClose, kReset, ...) don't count.
  int connections_closed_by_client() const;
  bool WaitForClosedByClient(int n, absl::Duration timeout) const;

  // Unsolicited writes (Reply::unsolicited) completed, total.
  int unsolicited_sent() const;
  bool WaitForUnsolicitedSent(int n, absl::Duration timeout) const;
  // Lets one reply with hold_unsolicited send its unsolicited bytes (also a
  // reply that starts holding later).
  void ReleaseUnsolicited();
  // Bytes written to clients (completed sends), total: with a relay in
  // between, what it must have passed on.
  size_t bytes_sent() const;

  // Requests received whose reply has not finished (incl. delayed/stalled).
  // A reply stops counting just before its last byte (or the close/reset) is
  // written, so a client that has seen the whole outcome is never counted.
  int in_progress() const;
  // Peak of in_progress() since start or the last ClearRecords().
  int max_in_progress() const;
  // Forgets recorded requests and resets max_in_progress to in_progress.
  void ClearRecords();

 private:
  // How one connection ended; decides how the socket is closed and what is
  // counted.
  enum class End {
    kKeepAlive,     // (from Answer) the reply is done, read the next request
    kClientClosed,  // EOF/RST from the client
    kServerClose,   // the fake closes with a FIN
    kReset,         // the fake closes with an RST
    kStopped,       // the fake is shutting down
  };

  void AcceptLoop();
  void ReapFinishedThreads();
  void ServeConnection(int fd, int id);
  End ServeRequests(int fd, int id, std::string* buf);
  End ReadRequest(int fd, std::string* buf, RecordedRequest* req,
                  bool* keep_alive);
  End Answer(int fd, const RecordedRequest& req, const Reply& reply,
             bool keep_alive, std::string* buf, bool* counted);
  End Informational(int fd, const Reply& reply, std::string* buf);
  End SendUnsolicited(int fd, const Reply& reply, std::string* buf);
  End SendPattern(int fd, std::string head, uint64_t offset, uint64_t size,
                  bool* counted);
  End Drip(int fd, absl::string_view head, absl::string_view body,
           absl::Duration interval, std::string* buf, bool* counted);
  End ReadMore(int fd, std::string* buf);
  End HoldUntil(int fd, absl::Time deadline, std::string* buf);
  End Send(int fd, absl::string_view data);
  End SendError(int fd, int status, absl::string_view message);
  Reply RecordAndPickReply(const RecordedRequest& req);
  void FinishRequest(bool* counted);
  void CloseConnection(int fd, int id, End end);

  const int stop_fd_;  // eventfd; readable forever once the fake stops
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread accept_thread_;

  mutable absl::Mutex mu_;
  std::shared_ptr<const Handler> handler_ ABSL_GUARDED_BY(mu_);
  std::deque<Reply> scripted_ ABSL_GUARDED_BY(mu_);
  std::vector<RecordedRequest> requests_ ABSL_GUARDED_BY(mu_);
  int next_connection_id_ ABSL_GUARDED_BY(mu_) = 1;
  int open_connections_ ABSL_GUARDED_BY(mu_) = 0;
  int connections_accepted_ ABSL_GUARDED_BY(mu_) = 0;
  int closed_by_client_ ABSL_GUARDED_BY(mu_) = 0;
  int unsolicited_sent_ ABSL_GUARDED_BY(mu_) = 0;
  int unsolicited_released_ ABSL_GUARDED_BY(mu_) = 0;  // not yet taken
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;  // ends unsolicited holds
  size_t bytes_sent_ ABSL_GUARDED_BY(mu_) = 0;
  size_t max_stored_body_ ABSL_GUARDED_BY(mu_) = ~size_t{0};
  int in_progress_ ABSL_GUARDED_BY(mu_) = 0;
  int max_in_progress_ ABSL_GUARDED_BY(mu_) = 0;
  // Connection threads by connection id; finished ones are joined by the
  // accept thread (so churn does not pile up threads) or the destructor.
  std::map<int, std::thread> threads_ ABSL_GUARDED_BY(mu_);
  std::vector<int> finished_ ABSL_GUARDED_BY(mu_);
};

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_FAKE_GITLAB_H_
