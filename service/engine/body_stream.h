#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_BODY_STREAM_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_BODY_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace gitlab_gateway::engine {

// Streamed bodies: instead of buffering a whole answer (or request body) in
// HttpResponse::body (HttpRequest::body), a transfer hands it chunk by chunk
// to a BodySink (takes it from a BodySource) as curl's write (read) callback
// delivers (asks for) it. Either side may pause the transfer when it has no
// room (no bytes); it then calls the `resume` it was bound to, from any
// thread, once it has, and the engine unpauses the transfer on its thread.
//
// Threads: Bind, OnHead, OnData and Read run on the engine's loop thread,
// inside curl's callbacks: each must cost O(1) or O(chunk), never block and
// never call into the engine (resume only queues). The owner (a reactor)
// calls its own side from its threads; the implementation synchronizes.

// Where a streamed answer's body goes. Only a 2xx answer streams; any other
// answer is buffered as usual (bounded by max_response_bytes) and completes
// the transfer with its body, so that errors keep their typed details.
class BodySink {
 public:
  enum class Take {
    kTaken,     // the chunk is consumed
    kPause,     // no room: nothing consumed; curl offers it again on resume
    kTooLarge,  // over the sink's byte cap: fails with RESPONSE_TOO_LARGE
    kAbort,     // the reader is gone: fails the transfer
  };
  using Headers = std::vector<std::pair<std::string, std::string>>;

  virtual ~BodySink() = default;
  // At the start of every attempt, before any other call: `resume` unpauses
  // that attempt's transfer (a no-op once it ended). Loop thread.
  virtual void Bind(std::function<void()> resume) = 0;
  // The 2xx answer's status and headers, just before its first body byte.
  // After this the attempt is committed: it must not be retried. Loop thread.
  virtual void OnHead(int status_code, const Headers& headers) = 0;
  // One chunk of the body (up to the transfer's buffer size). Loop thread.
  virtual Take OnData(const char* data, size_t size) = 0;
  // Whether OnHead ran (any attempt): no further attempt may start. Any
  // thread.
  virtual bool Committed() const = 0;
};

// Where a streamed request body comes from.
class BodySource {
 public:
  // What Read returns besides a byte count.
  static constexpr size_t kPause = ~size_t{0};      // nothing ready yet
  static constexpr size_t kAbort = ~size_t{0} - 1;  // the writer failed

  virtual ~BodySource() = default;
  // As BodySink::Bind. Loop thread.
  virtual void Bind(std::function<void()> resume) = 0;
  // Copies up to `size` bytes into `buffer` and returns how many; 0 at the
  // end of the body, kPause or kAbort. The first byte read commits the call
  // (no retry). Loop thread.
  virtual size_t Read(char* buffer, size_t size) = 0;
  // The body's size when known (sent as Content-Length), else -1 (chunked).
  // Any thread.
  virtual int64_t size() const = 0;
};

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_BODY_STREAM_H_
