#ifndef GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVICE_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <memory>

#include "gitlab/gateway/v1/gateway.grpc.pb.h"
#include "service/auth/caller_identifier.h"
#include "service/engine/byte_budget.h"
#include "service/metrics/metrics.h"
#include "service/server/batch_reactor.h"
#include "service/server/paginate_reactor.h"
#include "service/server/stream_options.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

// Every method raw: the service decodes callers' bytes itself, so a message
// protobuf refuses (invalid UTF-8 in a string field) is answered with
// INVALID_ARGUMENT naming the field, and a bad BatchExecute item fails alone,
// instead of gRPC's UNIMPLEMENTED or a silently ended stream.
using RawGatewayService =
    ::gitlab::gateway::v1::Gateway::WithRawCallbackMethod_Execute<
        ::gitlab::gateway::v1::Gateway::WithRawCallbackMethod_BatchExecute<
            ::gitlab::gateway::v1::Gateway::WithRawCallbackMethod_Paginate<
                ::gitlab::gateway::v1::Gateway::WithRawCallbackMethod_Download<
                    ::gitlab::gateway::v1::Gateway::
                        WithRawCallbackMethod_Upload<
                            ::gitlab::gateway::v1::Gateway::Service>>>>>;

// The gitlab.gateway.v1.Gateway service on gRPC's callback API. Reactions never
// block: upstream work goes to the engine, which finishes RPCs from its loop
// thread through UpstreamCaller's completion.
//
// Bodies are bounded in bytes by `batch.memory`, the gateway-wide budget
// (Execute's request and answer, every page, every batch item), and per
// BatchExecute stream by `batch.stream_budget_bytes`.
//
// Each RPC's caller is identified when it starts (`identifier`, null: every
// caller is anonymous); a refused identity ends the RPC with
// UNAUTHENTICATED (CALLER_UNAUTHENTICATED) before anything is read or sent
// upstream (for BatchExecute: the whole stream, the caller being the same
// for every item).
//
// gRPC calls the handlers on its own threads; the service holds no call state.
class GatewayService final : public RawGatewayService {
 public:
  // `batch.memory` is shared by every call (null: no gateway-wide budget);
  // `paginate.memory` is set from it.
  // `download.memory` and `upload.memory` are set from `batch.memory` too.
  GatewayService(UpstreamCaller* caller, metrics::Metrics* metrics,
                 BatchOptions batch, PaginateOptions paginate_options,
                 const auth::CallerIdentifier* identifier = nullptr,
                 DownloadOptions download = {}, UploadOptions upload = {});

  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* BatchExecute(
      grpc::CallbackServerContext* context) override;

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Paginate(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Download(
      grpc::CallbackServerContext* context,
      const grpc::ByteBuffer* request) override;

  grpc::ServerReadReactor<grpc::ByteBuffer>* Upload(
      grpc::CallbackServerContext* context,
      grpc::ByteBuffer* response) override;

 private:
  // The caller of the RPC behind `context`, or the refusal to answer with.
  absl::StatusOr<auth::Caller> Identify(
      const grpc::CallbackServerContext& context) const;

  UpstreamCaller* const caller_;
  metrics::Metrics* const metrics_;
  const auth::CallerIdentifier* const identifier_;
  const BatchOptions batch_;
  const PaginateOptions paginate_options_;
  const DownloadOptions download_options_;
  const UploadOptions upload_options_;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVICE_H_
