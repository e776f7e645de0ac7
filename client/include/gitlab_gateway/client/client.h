#ifndef GITLAB_GATEWAY_CLIENT_CLIENT_H_
#define GITLAB_GATEWAY_CLIENT_CLIENT_H_

// C++ client of gitlab-gateway (gitlab.gateway.v1.Gateway).
//
//   auto client = Client::Insecure("localhost:50051");
//   ::gitlab::gateway::v1::Request request;
//   request.set_path("/projects/42");
//   absl::StatusOr<::gitlab::gateway::v1::Response> response =
//   client.Execute(request); if (!response.ok()) {
//     DecodedError error = DecodeError(response.status());
//     ...
//   }
//
// Every call carries a deadline: CallOptions::timeout, else
// ClientOptions::default_timeout. Errors are absl::Status values whose
// payload keeps gRPC's error details, so DecodeError sees all of them.
//
// A Client is thread-safe: any thread may call any method at once. It may be
// destroyed while ExecuteAsync calls are in flight; their callbacks still run.

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.grpc.pb.h"
#include "gitlab_gateway/client/error.h"
#include "gitlab_gateway/client/page_stream.h"
#include "gitlab_gateway/client/tls.h"

namespace gitlab_gateway::client {

// Part of this library's API, not a convenience of its own code:
// `gitlab_gateway::client::v1::Request` etc. name the API's messages for
// callers (the only namespace alias in the project's public headers).
namespace v1 = ::gitlab::gateway::v1;

struct ClientOptions {
  // Deadline of every call that does not set CallOptions::timeout. For Batch
  // and Paginate it bounds the whole stream.
  absl::Duration default_timeout = absl::Seconds(30);
  // gRPC metadata sent with every call, e.g. {"x-caller", "billing"}.
  std::vector<std::pair<std::string, std::string>> metadata;
  // The caller's bearer secret (the gateway's --callers_file holds its
  // SHA-256), sent as `authorization: Bearer <secret>` with every call;
  // empty: none. Over a plaintext channel it travels in clear: use TLS
  // beyond loopback.
  std::string caller_token;
  // Largest message Insecure()'s channel accepts: the gateway's default
  // --max_response_mb (gRPC's own default, 4 MiB, refuses bigger Execute
  // answers). Download streams answers of any size in 1 MiB messages.
  int max_receive_bytes = 64 << 20;
};

struct CallOptions {
  // This call's deadline, from when it starts; replaces the default.
  std::optional<absl::Duration> timeout;
};

class Client {
 public:
  using ExecuteCallback =
      std::function<void(absl::StatusOr<::gitlab::gateway::v1::Response>)>;
  // Returns the next request, or nullopt at the end of the input.
  using RequestGenerator =
      std::function<std::optional<::gitlab::gateway::v1::Request>()>;
  using ResponseHandler = std::function<void(::gitlab::gateway::v1::Response)>;
  // Download: the head (a Response without body), then each body piece;
  // returning false cancels the call.
  using HeadHandler =
      std::function<bool(const ::gitlab::gateway::v1::Response& head)>;
  using DataHandler = std::function<bool(absl::string_view data)>;
  // Upload: fills `piece` with the next body bytes (up to 1 MiB is a good
  // size) and returns true, or returns false at the end of the body.
  using PieceSource = std::function<bool(std::string* piece)>;

  explicit Client(std::shared_ptr<grpc::ChannelInterface> channel,
                  ClientOptions options = {});
  // For tests: calls go through `stub`.
  Client(std::shared_ptr<::gitlab::gateway::v1::Gateway::StubInterface> stub,
         ClientOptions options);
  // A plaintext channel to `target` ("host:port", any gRPC target URI).
  static Client Insecure(const std::string& target, ClientOptions options = {});
  // A TLS channel to `target`; fails when a file of `tls` cannot be read.
  static absl::StatusOr<Client> Tls(const std::string& target,
                                    const TlsFiles& tls,
                                    ClientOptions options = {});

  // One GitLab call. Blocks until the answer or the deadline.
  absl::StatusOr<::gitlab::gateway::v1::Response> Execute(
      const ::gitlab::gateway::v1::Request& request,
      const CallOptions& call = {}) const;

  // Starts one GitLab call and returns at once. `done` runs exactly once, on
  // a gRPC thread: it must not block (hand long work to another thread).
  void ExecuteAsync(::gitlab::gateway::v1::Request request,
                    ExecuteCallback done, const CallOptions& call = {}) const;

  // Streams `requests` on one BatchExecute call; `on_response` runs on the
  // calling thread for each Response as it arrives (completion order, each
  // carrying its Request's id; failed items set Response.error, decodable
  // with DecodeError). Returns the stream's own status.
  absl::Status Batch(
      const std::vector<::gitlab::gateway::v1::Request>& requests,
      const ResponseHandler& on_response, const CallOptions& call = {}) const;
  // The same with requests pulled from `next` on a writer thread until it
  // returns nullopt (or the stream fails). `next` may block (e.g. reading
  // stdin); Batch returns only after `next` has returned.
  absl::Status Batch(RequestGenerator next, const ResponseHandler& on_response,
                     const CallOptions& call = {}) const;

  // One GitLab GET whose body streams: `on_head` runs first, then `on_data`
  // for each piece (at most 1 MiB), on the calling thread. Returns the
  // stream's status: OK only when the whole body arrived.
  absl::Status Download(const ::gitlab::gateway::v1::Request& request,
                        const HeadHandler& on_head, const DataHandler& on_data,
                        const CallOptions& call = {}) const;

  // One GitLab PUT or POST whose body streams from `next` (read on the
  // calling thread). `size`, when known, is sent as Content-Length.
  absl::StatusOr<::gitlab::gateway::v1::Response> Upload(
      const ::gitlab::gateway::v1::Request& request,
      std::optional<int64_t> size, const PieceSource& next,
      const CallOptions& call = {}) const;

  // Starts a Paginate call; read its pages from the returned stream.
  PageStream Paginate(const ::gitlab::gateway::v1::PaginateRequest& request,
                      const CallOptions& call = {}) const;

  const ClientOptions& options() const { return options_; }

 private:
  std::unique_ptr<grpc::ClientContext> NewContext(
      const CallOptions& call) const;

  std::shared_ptr<::gitlab::gateway::v1::Gateway::StubInterface> stub_;
  ClientOptions options_;
};

}  // namespace gitlab_gateway::client

#endif  // GITLAB_GATEWAY_CLIENT_CLIENT_H_
