#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_TRANSFER_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_TRANSFER_H_

#include <curl/curl.h>

#include <cstddef>
#include <functional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "service/engine/byte_budget.h"
#include "service/engine/connection_guard.h"
#include "service/engine/engine.h"
#include "service/engine/http_types.h"

namespace gitlab_gateway::engine {

// One submission's state from Engine::Submit to its completion, and the curl
// side of it: the easy handle's options, the write/header/pre-request
// callbacks that fill the response within the engine's caps (or stream it
// to request.sink, and read the body from request.source), and turning
// curl's result into the completion's value. The Engine owns it and keeps
// the queue, the slots and the handle pool.
//
// Threads: built by the submitting thread and handed to the loop thread
// under the engine's mutex; from then on only the loop thread touches it,
// curl's callbacks included (they run inside curl_multi_socket_action).
struct Transfer {
  // Sets every option of `easy` (the engine's, fresh or reset) for
  // `request`, with this transfer as CURLOPT_PRIVATE and callback data;
  // `started` is set. The engine's options and guard must outlive the
  // transfer: the callbacks read them. Fails (GATEWAY_OUT_OF_MEMORY) if the
  // header list cannot be built; then `header_list` may hold part of it, for
  // the engine's release to free.
  absl::Status Configure(const EngineOptions& engine_options,
                         ConnectionGuard& engine_guard);

  // The completion's value once curl reported `code` for the transfer. A
  // failure gives back the response bytes the transfer had charged.
  absl::StatusOr<HttpResponse> Finish(CURLcode code);

  // Gives back the response bytes charged to request.account (the body is
  // discarded with a failure).
  void ReleaseCharge();

  TransferId id = 0;
  HttpRequest request;
  Completion done;
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
  // The current answer's status code (from its status line; 0 if unparsed).
  int status_code = 0;
  // The body is going to request.sink (a 2xx answer with a sink).
  bool streaming = false;
  // Unpauses this transfer from any thread (Engine::Resume); given to
  // request.sink / request.source by Configure. Set by the engine.
  std::function<void()> resume;
  // The connection was ready and the request went out on it (pre-request
  // callback): from here on a failure is not a connect failure.
  bool request_sent = false;
  bool queued = true;  // counted in Engine::waiting_ until handed to curl
  absl::Time submitted;
  absl::Time started;
  // Set by Configure, for the callbacks: the engine's, not owned.
  const EngineOptions* options = nullptr;
  ConnectionGuard* guard = nullptr;
  char error[CURL_ERROR_SIZE] = {0};
};

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_TRANSFER_H_
