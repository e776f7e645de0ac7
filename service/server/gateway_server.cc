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
#include "service/server/cpu_scheduling.h"
#include "service/server/log.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;

absl::flat_hash_set<std::string> CredentialNames(
    const UpstreamOptions& upstream) {
  absl::flat_hash_set<std::string> names;
  if (upstream.default_credential.has_value()) {
    names.insert(std::string(gitlab::kDefaultCredentialName));
  }
  if (upstream.named_credentials != nullptr) {
    for (const auto& [name, credential] : *upstream.named_credentials) {
      names.insert(name);
    }
  }
  return names;
}

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    GatewayConfig config) {
  absl::StatusOr<gitlab::BaseUrl> base_url =
      gitlab::ParseBaseUrl(config.gitlab_url);
  if (!base_url.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("gitlab_url: ", base_url.status().message()));
  }
  std::unique_ptr<GatewayServer> self(new GatewayServer());
  if (!config.policy_file.empty()) {
    auth::PolicyStore::Options policy;
    policy.path = config.policy_file;
    policy.credential_names = CredentialNames(config.upstream);
    policy.poll_interval = config.policy_poll_interval;
    absl::StatusOr<std::unique_ptr<auth::PolicyStore>> store =
        auth::PolicyStore::Open(std::move(policy));
    if (!store.ok()) return store.status();
    self->policy_ = *std::move(store);
    config.upstream.policy = self->policy_;
  }
  self->metrics_ = std::make_unique<metrics::Metrics>(config.known_callers);
  if (config.access_log != "off") {
    metrics::Metrics* metrics = self->metrics_.get();
    absl::StatusOr<std::unique_ptr<log::AccessLog>> access_log =
        log::AccessLog::Open(config.access_log,
                             log::AccessLog::Options{config.access_log_queue},
                             [metrics] { metrics->CountAccessLogDropped(); });
    if (!access_log.ok()) return access_log.status();
    self->access_log_ = *std::move(access_log);
  }
  self->recorder_ = std::make_unique<CallRecorder>(self->metrics_.get(),
                                                   self->access_log_.get());

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
  // Every caller waits on the engine: woken, it runs at once, even when the
  // rest of the gateway runs under SCHED_BATCH (cpu_scheduling.h).
  engine_options.on_loop_start = [] {
    if (absl::Status s = UseNormalScheduling(); !s.ok()) {
      LogLine("WARN", "engine thread: %s", s.message());
    }
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
  self->caller_ = std::make_unique<UpstreamCaller>(
      self->pipeline_.get(), std::move(upstream), self->recorder_.get());
  if (absl::Status s = self->StartGrpc(config); !s.ok()) return s;

  if (!config.metrics_address.empty()) {
    try {
      self->exposer_ = std::make_unique<prometheus::Exposer>(
          config.metrics_address, /*num_threads=*/1);
    } catch (const std::exception& e) {
      // CivetServer only says "null context when constructing CivetServer".
      self->Shutdown(absl::ZeroDuration());
      return absl::UnavailableError(absl::StrCat(
          "metrics_listen: cannot listen on ", config.metrics_address,
          " (port in use, or not an address of this host); set another "
          "--metrics_listen, or \"off\" to disable /metrics [",
          e.what(), "]"));
    }
    self->exposer_->RegisterCollectable(self->metrics_->registry());
    std::vector<int> ports = self->exposer_->GetListeningPorts();
    if (!ports.empty()) self->metrics_port_ = ports.front();
  }

  for (grpc::Server* server :
       {self->server_.get(), self->health_server_.get()}) {
    if (server == nullptr) continue;
    server->GetHealthCheckService()->SetServingStatus(true);
    server->GetHealthCheckService()->SetServingStatus(
        v1::Gateway::service_full_name(), true);
  }
  // Scripts and bench/ read the first three fields: keep their order.
  const std::string metrics_note =
      self->exposer_ == nullptr
          ? std::string("metrics off")
          : absl::StrCat("metrics on port ", self->metrics_port_);
  LogLine("INFO",
          "serving gRPC on port %d, %s, GitLab %s; %s%s; health-only port %d",
          self->port_, metrics_note, base_url->origin,
          config.tls.enabled() ? "TLS" : "plaintext",
          config.tls.client_ca_file.empty() ? "" : " with client certificates",
          self->health_port_);
  return self;
}

absl::Status GatewayServer::StartGrpc(const GatewayConfig& config) {
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::InsecureServerCredentials();
  if (config.tls.enabled()) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> tls =
        auth::MakeServerCredentials(config.tls);
    if (!tls.ok()) return tls.status();
    credentials = *std::move(tls);
  } else if (!config.tls.client_ca_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_client_ca_file: needs --tls_cert_file and --tls_key_file");
  }
  if (!config.callers_file.empty()) {
    absl::StatusOr<std::unique_ptr<auth::CallersFile>> callers =
        auth::CallersFile::Open(config.callers_file, config.callers_reload);
    if (!callers.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--callers_file: ", callers.status().message()));
    }
    callers_ = *std::move(callers);
  }
  identifier_ = std::make_unique<auth::CallerIdentifier>(callers_.get());
  // Callers named at start get their own `caller` metric label, and so do
  // callers a reload of the callers file or the policy adds (looked up the
  // first time they call); certificate identities without a policy rule
  // count as "other".
  std::vector<std::string> known = config.known_callers;
  if (callers_ != nullptr) {
    for (std::string& name : callers_->table()->names()) {
      known.push_back(std::move(name));
    }
  }
  if (policy_ != nullptr) {
    for (std::string& name : policy_->current()->caller_names()) {
      known.push_back(std::move(name));
    }
  }
  metrics_->SetKnownCallers(std::move(known));
  metrics_->SetCallerDirectory(
      [callers = callers_.get(),
       policy = policy_.get()](absl::string_view name) {
        // Both outlive the directory: the destructor clears it (waiting for
        // lookups in progress) before it destroys them.
        return (callers != nullptr && callers->HasName(name)) ||
               (policy != nullptr && policy->HasRule(name));
      });
  BatchOptions batch;
  batch.window = config.batch_window;
  batch.stream_budget_bytes = config.stream_budget_bytes;
  batch.memory = memory_budget_;
  DownloadOptions download;
  download.max_bytes = config.max_download_bytes;
  UploadOptions upload;
  upload.max_bytes = config.max_upload_bytes;
  service_ = std::make_unique<GatewayService>(
      caller_.get(), metrics_.get(), std::move(batch), config.paginate,
      identifier_.get(), std::move(download), std::move(upload));

  grpc::EnableDefaultHealthCheckService(true);
  // libgrpc++ serves grpc.health.v1 without registering its descriptors;
  // linking them in lets reflection (grpcurl) describe and call it.
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen_address, credentials, &port_);
  builder.RegisterService(service_.get());
  // gRPC sets SO_REUSEPORT by default: a second gateway on a port in use
  // would start and silently get half of the connections. Binding fails
  // instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  // A request the memory budget can never hold is refused by gRPC itself.
  builder.SetMaxReceiveMessageSize(static_cast<int>(std::min<size_t>(
      static_cast<size_t>(std::max(0, config.max_request_bytes)),
      config.memory_budget_bytes)));
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat(
        "--listen: cannot serve gRPC on ", config.listen_address,
        ": the address is not valid, or the port is in use (by another "
        "gateway?)"));
  }
  if (!config.health_listen_address.empty()) {
    if (absl::Status s = StartHealthPort(config.health_listen_address);
        !s.ok()) {
      server_->Shutdown();
      server_->Wait();
      server_.reset();
      return s;
    }
  }
  return absl::OkStatus();
}

namespace {

// The health port's builder: no plugins (reflection registers itself on
// every builder), and no SO_REUSEPORT either.
class HealthOnly final : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments* args) override {
    args->SetInt(GRPC_ARG_ALLOW_REUSEPORT, 0);
  }
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->clear();
  }
};

}  // namespace

absl::Status GatewayServer::StartHealthPort(const std::string& address) {
  // Plaintext on purpose: kubelet gRPC probes cannot speak TLS. Serves only
  // the default grpc.health.v1 service; its status follows the main
  // server's (Start and Shutdown set both).
  grpc::ServerBuilder builder;
  builder.SetOption(std::make_unique<HealthOnly>());
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(),
                           &health_port_);
  health_fallback_ = std::make_unique<grpc::CallbackGenericService>();
  builder.RegisterCallbackGenericService(health_fallback_.get());
  health_server_ = builder.BuildAndStart();
  if (health_server_ == nullptr || health_port_ == 0) {
    health_server_.reset();
    return absl::UnavailableError(
        absl::StrCat("--health_listen: cannot serve health on ", address,
                     ": the address is not valid, or the port is in use"));
  }
  return absl::OkStatus();
}

void GatewayServer::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  // Probes on either port see NOT_SERVING while calls drain; the health
  // port stops last.
  if (health_server_ != nullptr) {
    health_server_->GetHealthCheckService()->SetServingStatus(false);
  }
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
    server_->Wait();
  }
  if (health_server_ != nullptr) {
    health_server_->Shutdown(absl::ToChronoTime(absl::Now()));
    health_server_->Wait();
  }
}

GatewayServer::~GatewayServer() {
  // Stated order, each step needing only what is still alive:
  // 1. no RPC runs any more (every call finished or was cancelled);
  Shutdown(absl::ZeroDuration());
  exposer_.reset();
  health_server_.reset();
  server_.reset();
  service_.reset();
  identifier_.reset();
  if (metrics_ != nullptr) metrics_->SetCallerDirectory(nullptr);
  callers_.reset();
  // 2. the engine completes what it still holds (cancelled transfers) into
  //    the pipeline, which is still whole, and refuses anything later;
  if (engine_ != nullptr) engine_->Shutdown();
  // 3. the pipeline drains its work pool and scheduler (a retry now gets the
  //    engine's refusal at once);
  caller_.reset();
  pipeline_.reset();
  policy_.reset();  // stops its poller
  // 4. then the engine's curl state, and what it reported its load to;
  //    the memory budget goes last (transfers held accounts on it).
  engine_.reset();
  trimmer_.reset();
  // 5. nothing records calls any more: the access log writes what it holds.
  recorder_.reset();
  access_log_.reset();
}

}  // namespace gitlab_gateway::server
