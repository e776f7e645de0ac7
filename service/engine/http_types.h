#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_HTTP_TYPES_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_HTTP_TYPES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/engine/body_stream.h"
#include "service/engine/byte_account.h"

namespace gitlab_gateway::engine {

// Response headers in the order received; names as sent, duplicates kept.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One HTTP exchange to perform. Plain value; built by any thread, then moved
// into the engine.
struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE
  std::string url;             // absolute, already encoded
  std::vector<std::string> header_lines;  // "Name: value"
  std::optional<std::string> body;
  // The whole exchange, queueing included, must end by then.
  absl::Time deadline = absl::InfiniteFuture();
  // Fair-queueing key: waiting transfers are served round-robin across flows
  // (0 = shared by unary calls; each stream takes its own).
  uint64_t flow = 0;
  // Charged with the response body as it arrives; a chunk that does not fit
  // fails the transfer with RESOURCE_EXHAUSTED (GATEWAY_OVERLOADED). Bytes
  // of a failed transfer are given back; a delivered body stays charged for
  // the caller to release. Null: no budget.
  std::shared_ptr<ByteAccount> account;
  // Set: a 2xx answer's body streams into it instead of HttpResponse::body
  // (not charged to `account`; the sink bounds itself).
  std::shared_ptr<BodySink> sink;
  // Set (instead of `body`): the request body is read from it as curl sends.
  std::shared_ptr<BodySource> source;
};

// What the upstream answered. Any non-transport outcome is a response, whatever
// its status code: mapping codes to errors is the caller's business.
struct HttpResponse {
  int status_code = 0;
  HttpHeaders headers;
  std::string body;
  std::string content_type;
  absl::Duration latency;       // from handing the transfer to curl to its end
  absl::Duration queue_wait;    // time spent waiting for an in-flight slot
  // Body bytes handed to HttpRequest::sink (not in `body`), and request body
  // bytes read from HttpRequest::source.
  uint64_t streamed_bytes = 0;
  uint64_t uploaded_bytes = 0;
};

using TransferId = uint64_t;

// Called exactly once per accepted submission, on the engine's loop thread.
// It must not block: hand heavy work elsewhere.
using Completion = absl::AnyInvocable<void(absl::StatusOr<HttpResponse>)>;

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_HTTP_TYPES_H_
