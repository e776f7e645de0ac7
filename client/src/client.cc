#include "gitlab_gateway/client/client.h"

#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"

namespace gitlab_gateway::client {

namespace v1 = ::gitlab::gateway::v1;

Client::Client(std::shared_ptr<grpc::ChannelInterface> channel,
               ClientOptions options)
    : Client(std::shared_ptr<v1::Gateway::StubInterface>(
                 v1::Gateway::NewStub(std::move(channel))),
             std::move(options)) {}

Client::Client(std::shared_ptr<v1::Gateway::StubInterface> stub,
               ClientOptions options)
    : stub_(std::move(stub)), options_(std::move(options)) {}

Client Client::Insecure(const std::string& target, ClientOptions options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_bytes);
  return Client(grpc::CreateCustomChannel(
                    target, grpc::InsecureChannelCredentials(), args),
                std::move(options));
}

absl::StatusOr<Client> Client::Tls(const std::string& target,
                                   const TlsFiles& tls, ClientOptions options) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      TlsCredentials(tls);
  if (!credentials.ok()) return credentials.status();
  return Client(grpc::CreateChannel(target, *std::move(credentials)),
                std::move(options));
}

std::unique_ptr<grpc::ClientContext> Client::NewContext(
    const CallOptions& call) const {
  auto context = std::make_unique<grpc::ClientContext>();
  absl::Duration timeout = call.timeout.value_or(options_.default_timeout);
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  for (const auto& [key, value] : options_.metadata) {
    context->AddMetadata(key, value);
  }
  if (!options_.caller_token.empty()) {
    context->AddMetadata("authorization",
                         absl::StrCat("Bearer ", options_.caller_token));
  }
  return context;
}

absl::StatusOr<v1::Response> Client::Execute(const v1::Request& request,
                                             const CallOptions& call) const {
  std::unique_ptr<grpc::ClientContext> context = NewContext(call);
  v1::Response response;
  grpc::Status status = stub_->Execute(context.get(), request, &response);
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

void Client::ExecuteAsync(v1::Request request, ExecuteCallback done,
                          const CallOptions& call) const {
  // Everything the call touches lives until its completion callback.
  struct AsyncCall {
    std::unique_ptr<grpc::ClientContext> context;
    v1::Request request;
    v1::Response response;
    ExecuteCallback done;
  };
  auto* state =
      new AsyncCall{NewContext(call), std::move(request), {}, std::move(done)};
  stub_->async()->Execute(state->context.get(), &state->request,
                          &state->response, [state](grpc::Status status) {
                            std::unique_ptr<AsyncCall> owned(state);
                            if (status.ok()) {
                              owned->done(std::move(owned->response));
                            } else {
                              owned->done(ToAbslStatus(status));
                            }
                          });
}

absl::Status Client::Batch(const std::vector<v1::Request>& requests,
                           const ResponseHandler& on_response,
                           const CallOptions& call) const {
  size_t next = 0;
  return Batch(
      [&requests, &next]() -> std::optional<v1::Request> {
        if (next == requests.size()) return std::nullopt;
        return requests[next++];
      },
      on_response, call);
}

absl::Status Client::Batch(RequestGenerator next,
                           const ResponseHandler& on_response,
                           const CallOptions& call) const {
  std::unique_ptr<grpc::ClientContext> context = NewContext(call);
  std::unique_ptr<grpc::ClientReaderWriterInterface<v1::Request, v1::Response>>
      stream = stub_->BatchExecute(context.get());
  // gRPC's sync streams allow one writer and one reader thread at once. The
  // writer stops at the end of input or when a write fails (the call ended).
  std::thread writer([&stream, &next] {
    while (std::optional<v1::Request> request = next()) {
      if (!stream->Write(*request)) return;
    }
    stream->WritesDone();
  });
  v1::Response response;
  while (stream->Read(&response)) {
    on_response(std::move(response));
    response.Clear();
  }
  writer.join();
  return ToAbslStatus(stream->Finish());
}

PageStream Client::Paginate(const v1::PaginateRequest& request,
                            const CallOptions& call) const {
  std::unique_ptr<grpc::ClientContext> context = NewContext(call);
  std::unique_ptr<grpc::ClientReaderInterface<v1::Response>> reader =
      stub_->Paginate(context.get(), request);
  return PageStream(std::move(context), std::move(reader));
}

}  // namespace gitlab_gateway::client
