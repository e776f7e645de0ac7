#ifndef GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVICE_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include "gitlab/gateway/v1/gateway.grpc.pb.h"
#include "service/metrics/metrics.h"
#include "service/server/paginate_reactor.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

// The gitlab.gateway.v1.Gateway service on gRPC's callback API. Reactions never
// block: upstream work goes to the engine, which finishes RPCs from its loop
// thread through UpstreamCaller's completion.
//
// gRPC calls the handlers on its own threads; the service holds no call state.
class GatewayService final : public v1::Gateway::CallbackService {
 public:
  // `batch_window`: items of one BatchExecute stream in flight or awaiting
  // their write; reading pauses beyond it.
  GatewayService(UpstreamCaller* caller, metrics::Metrics* metrics,
                 int batch_window, PaginateOptions paginate_options)
      : caller_(caller),
        metrics_(metrics),
        batch_window_(batch_window),
        paginate_options_(paginate_options) {}

  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* context,
                                    const v1::Request* request,
                                    v1::Response* response) override;

  grpc::ServerBidiReactor<v1::Request, v1::Response>* BatchExecute(
      grpc::CallbackServerContext* context) override;

  grpc::ServerWriteReactor<v1::Response>* Paginate(
      grpc::CallbackServerContext* context,
      const v1::PaginateRequest* request) override;

 private:
  UpstreamCaller* const caller_;
  metrics::Metrics* const metrics_;
  const int batch_window_;
  const PaginateOptions paginate_options_;
};

// The RPC deadline as absl::Time (InfiniteFuture when the caller set none).
absl::Time RpcDeadline(const grpc::CallbackServerContext& context);

// How a cancelled stream ends: DEADLINE_EXCEEDED once its deadline passed
// (the server may notice before the caller does), else CANCELLED.
grpc::Status CancelledStatus(absl::Time deadline, absl::string_view what);

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_GATEWAY_SERVICE_H_
