// Client::Download and Client::Upload: the streaming calls.

#include <utility>

#include "gitlab_gateway/client/client.h"

namespace gitlab_gateway::client {

namespace v1 = ::gitlab::gateway::v1;

absl::Status Client::Download(const v1::Request& request,
                              const HeadHandler& on_head,
                              const DataHandler& on_data,
                              const CallOptions& call) const {
  std::unique_ptr<grpc::ClientContext> context = NewContext(call);
  std::unique_ptr<grpc::ClientReaderInterface<v1::DownloadChunk>> reader =
      stub_->Download(context.get(), request);
  v1::DownloadChunk chunk;
  bool stopped = false;
  while (reader->Read(&chunk)) {
    bool more =
        chunk.has_head() ? on_head(chunk.head()) : on_data(chunk.data());
    if (!more) {
      stopped = true;
      context->TryCancel();
      while (reader->Read(&chunk)) {
      }
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (stopped && status.error_code() == grpc::StatusCode::CANCELLED) {
    return absl::CancelledError("download stopped by the caller");
  }
  return ToAbslStatus(status);
}

absl::StatusOr<v1::Response> Client::Upload(const v1::Request& request,
                                            std::optional<int64_t> size,
                                            const PieceSource& next,
                                            const CallOptions& call) const {
  std::unique_ptr<grpc::ClientContext> context = NewContext(call);
  v1::Response response;
  std::unique_ptr<grpc::ClientWriterInterface<v1::UploadChunk>> writer =
      stub_->Upload(context.get(), &response);
  v1::UploadChunk chunk;
  *chunk.mutable_request() = request;
  if (size.has_value()) chunk.set_size(*size);
  // A failed write means the call ended: Finish tells why.
  if (writer->Write(chunk)) {
    chunk.Clear();
    while (next(chunk.mutable_data())) {
      if (!writer->Write(chunk)) break;
      chunk.clear_data();
    }
    writer->WritesDone();
  }
  grpc::Status status = writer->Finish();
  if (!status.ok()) return ToAbslStatus(status);
  return response;
}

}  // namespace gitlab_gateway::client
