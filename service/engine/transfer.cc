#include "service/engine/transfer.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "service/engine/curl_status.h"

namespace gitlab_gateway::engine {

namespace {

// curl's receive (and upload) buffer for streamed bodies.
constexpr long kStreamBufferBytes = 512 * 1024;

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

// curl's callbacks for one transfer (the Transfer is their user pointer).
// Loop thread, inside curl_multi_socket_action; they never call curl.

// A 2xx answer's body for HttpRequest::sink: handed on, never buffered.
size_t StreamChunk(Transfer* t, char* data, size_t bytes) {
  if (!t->streaming) {
    t->streaming = true;
    t->request.sink->OnHead(t->status_code, t->response.headers);
  }
  switch (t->request.sink->OnData(data, bytes)) {
    case BodySink::Take::kTaken:
      t->response.streamed_bytes += bytes;
      return bytes;
    case BodySink::Take::kPause:
      return CURL_WRITEFUNC_PAUSE;  // curl offers the same chunk on resume
    case BodySink::Take::kTooLarge:
      t->too_large = true;
      return 0;
    case BodySink::Take::kAbort:
      break;
  }
  return 0;  // aborts the transfer with CURLE_WRITE_ERROR
}

size_t OnWrite(char* data, size_t size, size_t n, void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  size_t bytes = size * n;
  if (t->request.sink != nullptr &&
      (t->streaming || (t->status_code >= 200 && t->status_code < 300))) {
    return StreamChunk(t, data, bytes);
  }
  if (t->response.body.size() + bytes > t->options->max_response_bytes) {
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

size_t OnHeader(char* data, size_t size, size_t n, void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  size_t bytes = size * n;
  absl::string_view line(data, bytes);
  if (absl::StartsWith(line, "HTTP/")) {
    t->response.headers.clear();  // a new response (after 1xx)
    t->header_bytes = 0;
    t->got_status_line = true;
    // "HTTP/1.1 200 OK": the code decides whether the body may stream.
    t->status_code = 0;
    size_t space = line.find(' ');
    if (space != absl::string_view::npos) {
      absl::string_view code = line.substr(space + 1, 3);
      int value = 0;
      if (code.size() == 3 && absl::SimpleAtoi(code, &value)) {
        t->status_code = value;
      }
    }
    return bytes;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return bytes;  // blank line
  const EngineOptions& options = *t->options;
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

size_t OnRead(char* buffer, size_t size, size_t n, void* userp) noexcept {
  auto* t = static_cast<Transfer*>(userp);
  size_t got = t->request.source->Read(buffer, size * n);
  if (got == BodySource::kPause) return CURL_READFUNC_PAUSE;
  if (got == BodySource::kAbort) return CURL_READFUNC_ABORT;
  t->response.uploaded_bytes += got;
  return got;
}

// Runs once the connection is ready, before the request is sent (again after
// curl retries on a fresh connection).
int OnPrereq(void* clientp, char* primary_ip, char* local_ip, int primary_port,
             int local_port) noexcept {
  auto* t = static_cast<Transfer*>(clientp);
  if (t->guard->RefuseUnclean(t->easy, primary_ip, local_ip, primary_port,
                              local_port)) {
    // The send fails and curl retries on a fresh connection: not sent yet.
    if (t->options->on_unclean_connection) {
      t->options->on_unclean_connection();
    }
    return CURL_PREREQFUNC_OK;
  }
  t->request_sent = true;
  return CURL_PREREQFUNC_OK;
}

}  // namespace

absl::Status Transfer::Configure(const EngineOptions& engine_options,
                                 ConnectionGuard& engine_guard) {
  options = &engine_options;
  guard = &engine_guard;
  const HttpRequest& req = request;
  curl_easy_setopt(easy, CURLOPT_PRIVATE, this);
  curl_easy_setopt(easy, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, options->protocol.c_str());
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  if (options->protocol == "https") {
    // Wait for a connection being set up that may multiplex (HTTP/2 over
    // TLS) rather than open another. Over plain HTTP/1.1 nothing can be
    // multiplexed and waiting would queue a fast call behind a slow one.
    curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
  }
  curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, options->user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error);
  guard->Attach(easy);
  curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, &OnPrereq);
  curl_easy_setopt(easy, CURLOPT_PREREQDATA, this);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnWrite);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
  if (!options->ca_file.empty()) {
    curl_easy_setopt(easy, CURLOPT_CAINFO, options->ca_file.c_str());
  }
  // The CA bundle alone: with a CA directory set (Debian's curl default)
  // curl cannot cache the parsed store, and every new TLS connection, a
  // failing one included, re-reads the bundle on this thread (~20 ms).
  curl_easy_setopt(easy, CURLOPT_CAPATH, nullptr);
  absl::Duration remaining = req.deadline - started;
  if (req.deadline != absl::InfiniteFuture()) {
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, ClampMillis(remaining));
  }
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   ClampMillis(std::min(remaining, options->connect_timeout)));

  if (req.sink != nullptr) {
    req.sink->Bind(resume);
    // Fewer, bigger callbacks; the sink copies each chunk once.
    curl_easy_setopt(easy, CURLOPT_BUFFERSIZE, kStreamBufferBytes);
  }
  if (req.source != nullptr) {
    req.source->Bind(resume);
    const curl_off_t size = static_cast<curl_off_t>(req.source->size());
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(easy, CURLOPT_READDATA, this);
    curl_easy_setopt(easy, CURLOPT_UPLOAD_BUFFERSIZE, kStreamBufferBytes);
    if (req.method == "PUT") {
      // Without a size, curl sends Transfer-Encoding: chunked.
      curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, size);
    } else {
      curl_easy_setopt(easy, CURLOPT_POST, 1L);
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, size);
      if (req.method != "POST") {
        curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      }
    }
  } else if (req.method == "GET") {
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
  header_list = list;
  if (!appended) {
    return WithReason(
        absl::ResourceExhaustedError("out of memory building request headers"),
        "GATEWAY_OUT_OF_MEMORY");
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
  return absl::OkStatus();
}

absl::StatusOr<HttpResponse> Transfer::Finish(CURLcode code) {
  // Decided from what happened, not from the clock: curl's timer and ours
  // disagree by a millisecond now and then.
  TransferFacts facts;
  facts.too_large = too_large;
  facts.headers_too_large = headers_too_large;
  facts.max_headers = options->max_response_headers;
  facts.max_header_bytes = options->max_response_header_bytes;
  facts.request_sent = request_sent;
  facts.connect_timeout_first =
      options->connect_timeout < request.deadline - started;
  absl::Status status = CurlResultToStatus(code, error, facts);
  if (!status.ok()) {
    if (over_budget != nullptr) status = OverBudget(*over_budget);
    ReleaseCharge();
    if (!got_status_line) status = WithNoResponse(std::move(status));
    return status;
  }
  long http_code = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http_code);
  curl_off_t total_us = 0;
  curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &total_us);
  const char* content_type = nullptr;
  curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
  response.status_code = static_cast<int>(http_code);
  response.latency = absl::Microseconds(total_us);
  if (content_type != nullptr) response.content_type = content_type;
  return std::move(response);
}

void Transfer::ReleaseCharge() {
  if (charged > 0) request.account->Release(charged);
  charged = 0;
}

}  // namespace gitlab_gateway::engine
