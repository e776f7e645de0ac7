#include "service/server/gateway_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpc/health/v1/health.pb.h"
#include "prometheus/exposer.h"
#include "service/gitlab/url_builder.h"
#include "service/server/log.h"

namespace gitlab_gateway::server {

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    GatewayConfig config) {
  absl::StatusOr<gitlab::BaseUrl> base_url =
      gitlab::ParseBaseUrl(config.gitlab_url);
  if (!base_url.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("gitlab_url: ", base_url.status().message()));
  }
  std::unique_ptr<GatewayServer> self(new GatewayServer());
  self->metrics_ = std::make_unique<metrics::Metrics>();

  engine::EngineOptions engine_options = config.engine;
  engine_options.protocol = base_url->scheme;
  metrics::Metrics* metrics = self->metrics_.get();
  self->trimmer_ = std::make_unique<MemoryTrimmer>(config.trim);
  self->memory_budget_ = std::make_shared<engine::ByteBudget>(
      "gateway", config.memory_budget_bytes);
  MemoryTrimmer* trimmer = self->trimmer_.get();
  engine_options.on_load = [metrics, trimmer](const engine::EngineLoad& load) {
    metrics->SetEngineLoad(load.in_flight, load.queued);
    trimmer->OnLoad(load.in_flight + load.queued);
  };
  engine_options.on_unclean_connection = [metrics] {
    metrics->CountUncleanConnection();
  };
  absl::StatusOr<std::unique_ptr<engine::Engine>> engine =
      engine::Engine::Create(std::move(engine_options));
  if (!engine.ok()) return engine.status();
  self->engine_ = *std::move(engine);

  UpstreamOptions upstream = config.upstream;
  upstream.base_url = *base_url;
  pipeline::PipelineOptions pipeline_options = PipelineOptionsOf(upstream);
  pipeline_options.shared_quota = config.shared_quota;
  self->pipeline_ = std::make_unique<pipeline::Pipeline>(
      self->engine_.get(), metrics, std::move(pipeline_options));
  self->caller_ =
      std::make_unique<UpstreamCaller>(self->pipeline_.get(), std::move(upstream));
  BatchOptions batch;
  batch.window = config.batch_window;
  batch.stream_budget_bytes = config.stream_budget_bytes;
  batch.memory = self->memory_budget_;
  self->service_ = std::make_unique<GatewayService>(
      self->caller_.get(), metrics, std::move(batch), config.paginate);

  grpc::EnableDefaultHealthCheckService(true);
  // libgrpc++ serves grpc.health.v1 without registering its descriptors;
  // linking them in lets reflection (grpcurl) describe and call it.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen_address,
                           grpc::InsecureServerCredentials(), &self->port_);
  builder.RegisterService(self->service_.get());
  // A request the memory budget can never hold is refused by gRPC itself.
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(
      static_cast<size_t>(std::max(0, config.max_request_bytes)),
      config.memory_budget_bytes)));
  self->server_ = builder.BuildAndStart();
  if (self->server_ == nullptr || self->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("listen: cannot serve gRPC on ", config.listen_address));
  }

  if (!config.metrics_address.empty()) {
    try {
      self->exposer_ = std::make_unique<prometheus::Exposer>(
          config.metrics_address, /*num_threads=*/1);
    } catch (const std::exception& e) {
      self->server_->Shutdown();
      return absl::UnavailableError(absl::StrCat(
          "metrics_listen: cannot serve /metrics on ", config.metrics_address,
          ": ", e.what()));
    }
    self->exposer_->RegisterCollectable(self->metrics_->registry());
    std::vector<int> ports = self->exposer_->GetListeningPorts();
    if (!ports.empty()) self->metrics_port_ = ports.front();
  }

  self->server_->GetHealthCheckService()->SetServingStatus(true);
  self->server_->GetHealthCheckService()->SetServingStatus(
      v1::Gateway::service_full_name(), true);
  LogLine("INFO", "serving gRPC on port %d, metrics on port %d, GitLab %s",
          self->port_, self->metrics_port_, base_url->origin);
  return self;
}

void GatewayServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

GatewayServer::~GatewayServer() {
  // Stated order, each step needing only what is still alive:
  // 1. no RPC runs any more (every call finished or was cancelled);
  if (server_ != nullptr) Shutdown(absl::ZeroDuration());
  exposer_.reset();
  server_.reset();
  service_.reset();
  // 2. the engine completes what it still holds (cancelled transfers) into
  //    the pipeline, which is still whole, and refuses anything later;
  if (engine_ != nullptr) engine_->Shutdown();
  // 3. the pipeline drains its work pool and scheduler (a retry now gets the
  //    engine's refusal at once);
  caller_.reset();
  pipeline_.reset();
  // 4. then the engine's curl state, and what it reported its load to;
  //    the memory budget goes last (transfers held accounts on it).
  engine_.reset();
  trimmer_.reset();
}

}  // namespace gitlab_gateway::server
