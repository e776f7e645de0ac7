// The reactors on a fake Upstream: no engine, no fake GitLab. What a reactor
// hands down is a PreparedCall (prepared once), what comes back is one
// CallOutcome; cancelling the RPC cancels the call's handle.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gitlab/gateway/v1/gateway.grpc.pb.h"
#include "gtest/gtest.h"
#include "service/gitlab/url_builder.h"
#include "service/metrics/metrics.h"
#include "service/pipeline/upstream.h"
#include "service/server/gateway_service.h"
#include "service/server/upstream_caller.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;
namespace {

// Records every call; the test completes them (or sees them cancelled).
class FakeUpstream final : public pipeline::Upstream {
 public:
  struct Call : pipeline::CallHandle {
    gitlab::PreparedCall prepared;
    gitlab::CallDone done;
    bool cancelled = false;
    absl::Mutex* mu = nullptr;
    void Cancel() override {
      absl::MutexLock lock(mu);
      cancelled = true;
    }
  };

  std::shared_ptr<pipeline::CallHandle> Start(gitlab::PreparedCall prepared,
                                              gitlab::CallDone done) override {
    auto call = std::make_shared<Call>();
    call->prepared = std::move(prepared);
    call->done = std::move(done);
    call->mu = &mu_;
    absl::MutexLock lock(&mu_);
    calls_.push_back(call);
    return call;
  }
  uint64_t NewFlow() override { return 7; }

  // Waits for the n-th call (1-based) to start.
  std::shared_ptr<Call> WaitForCall(size_t n,
                                    absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    wanted_ = n;
    if (!mu_.AwaitWithTimeout(absl::Condition(this, &FakeUpstream::Enough),
                              timeout)) {
      return nullptr;
    }
    return calls_[n - 1];
  }
  bool WaitCancelled(const std::shared_ptr<Call>& call) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(
        absl::Condition(+[](Call* c) { return c->cancelled; }, call.get()),
        absl::Seconds(10));
  }

 private:
  bool Enough() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return calls_.size() >= wanted_;
  }

  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<Call>> calls_ ABSL_GUARDED_BY(mu_);
  size_t wanted_ ABSL_GUARDED_BY(mu_) = 0;
};

class FakeUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    UpstreamOptions options;
    options.base_url = *gitlab::ParseBaseUrl("https://gitlab.example");
    options.default_credential =
        gitlab::Credential{gitlab::TokenKind::kPrivate, "gateway-token"};
    options.allow_anonymous_default_token = true;
    caller_ = std::make_unique<UpstreamCaller>(&upstream_, options);
    service_ = std::make_unique<GatewayService>(caller_.get(), &metrics_,
                                                BatchOptions{}, PaginateOptions{});
    grpc::ServerBuilder builder;
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = ::gitlab::gateway::v1::Gateway::NewStub(
        server_->InProcessChannel(grpc::ChannelArguments()));
  }
  void TearDown() override { server_->Shutdown(); }

  FakeUpstream upstream_;
  metrics::Metrics metrics_;
  std::unique_ptr<UpstreamCaller> caller_;
  std::unique_ptr<GatewayService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<::gitlab::gateway::v1::Gateway::Stub> stub_;
};

// One Execute in flight on the callback stub; Wait() returns its status.
struct AsyncExecute {
  AsyncExecute(::gitlab::gateway::v1::Gateway::Stub* stub,
               const v1::Request& request)
      : request(request) {
    stub->async()->Execute(&context, &this->request, &response,
                           [this](grpc::Status s) {
                             status = std::move(s);
                             finished.Notify();
                           });
  }
  bool Wait() {
    return finished.WaitForNotificationWithTimeout(absl::Seconds(10));
  }

  v1::Request request;
  grpc::ClientContext context;
  v1::Response response;
  grpc::Status status;
  absl::Notification finished;
};

TEST_F(FakeUpstreamTest, ExecuteHandsDownOnePreparedCallAndReturnsItsOutcome) {
  v1::Request request;
  request.set_id("r1");
  request.set_path("/projects/group%2Fdemo");
  AsyncExecute call(stub_.get(), request);
  std::shared_ptr<FakeUpstream::Call> upstream_call = upstream_.WaitForCall(1);
  ASSERT_NE(upstream_call, nullptr);
  const gitlab::PreparedCall& prepared = upstream_call->prepared;
  EXPECT_EQ(prepared.id, "r1");
  EXPECT_EQ(prepared.http.url,
            "https://gitlab.example/api/v4/projects/group%2Fdemo");
  EXPECT_EQ(prepared.http.header_lines.front(), "PRIVATE-TOKEN: gateway-token");
  EXPECT_EQ(prepared.route, "/projects/:id");
  EXPECT_EQ(prepared.credential_class, "default");
  gitlab::CallOutcome outcome;
  outcome.response->set_id("r1");
  outcome.response->set_status_code(200);
  outcome.response->set_text(R"({"id":42})");
  upstream_call->done(std::move(outcome));
  ASSERT_TRUE(call.Wait());
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  EXPECT_EQ(call.response.status_code(), 200);
  EXPECT_EQ(call.response.text(), R"({"id":42})");
}

TEST_F(FakeUpstreamTest, InvalidInputNeverReachesTheUpstream) {
  v1::Request request;
  request.set_path("/projects/../admin");
  grpc::ClientContext context;
  v1::Response response;
  grpc::Status status = stub_->Execute(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // Refused before anything is handed down (a short wait: nothing comes).
  EXPECT_EQ(upstream_.WaitForCall(1, absl::Milliseconds(200)), nullptr);
}

TEST_F(FakeUpstreamTest, CancellingTheRpcCancelsTheCallAndItsOutcomeFinishesIt) {
  v1::Request request;
  request.set_path("/projects");
  AsyncExecute call(stub_.get(), request);
  std::shared_ptr<FakeUpstream::Call> upstream_call = upstream_.WaitForCall(1);
  ASSERT_NE(upstream_call, nullptr);
  call.context.TryCancel();
  EXPECT_TRUE(upstream_.WaitCancelled(upstream_call));
  // The pipeline answers a cancelled call with CANCELLED, exactly once.
  gitlab::CallOutcome outcome;
  outcome.status = grpc::Status(grpc::StatusCode::CANCELLED, "call cancelled");
  upstream_call->done(std::move(outcome));
  ASSERT_TRUE(call.Wait());
  EXPECT_EQ(call.status.error_code(), grpc::StatusCode::CANCELLED);
}

}  // namespace
}  // namespace gitlab_gateway::server
