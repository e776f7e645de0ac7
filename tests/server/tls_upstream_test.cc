// HTTP/2 over TLS to a real server (nginx with a self-signed certificate):
// certificate checks, multiplexing on few connections, and the gateway's
// RPCs over it.
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/engine/engine.h"
#include "tests/server/gateway_harness.h"
#include "tests/support/tls_gitlab.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::Each;
using ::testing::Field;

class TlsUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(tls_.status().ok()) << tls_.status();
  }

  // A gateway whose GitLab is the TLS nginx, trusting its certificate.
  std::unique_ptr<GatewayHarness> Gateway(bool trust = true) {
    return std::make_unique<GatewayHarness>(
        [&, trust](server::GatewayConfig& config) {
          config.gitlab_url = tls_.base_url();
          if (trust) config.engine.ca_file = tls_.ca_file();
        });
  }

  TlsGitLab tls_;
};

TEST_F(TlsUpstreamTest, EngineMultiplexesConcurrentGetsOnOneHttp2Connection) {
  engine::EngineOptions options;
  options.protocol = "https";
  options.ca_file = tls_.ca_file();
  auto engine = engine::Engine::Create(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  constexpr int kCalls = 40;
  absl::BlockingCounter done(kCalls);
  std::atomic<int> ok{0};
  for (int i = 0; i < kCalls; ++i) {
    engine::HttpRequest request;
    request.url = tls_.base_url() + "/api/v4/projects/42";
    request.header_lines = {"PRIVATE-TOKEN: tls-token"};
    request.deadline = absl::Now() + absl::Seconds(20);
    ASSERT_TRUE((*engine)
                    ->Submit(std::move(request),
                             [&](absl::StatusOr<engine::HttpResponse> r) {
                               if (r.ok() && r->status_code == 200 &&
                                   r->body.find("\"id\":42") != std::string::npos) {
                                 ++ok;
                               }
                               done.DecrementCount();
                             })
                    .ok());
  }
  done.Wait();
  EXPECT_EQ(ok.load(), kCalls);
  std::vector<TlsGitLab::LogEntry> log = tls_.Log(kCalls);
  ASSERT_EQ(log.size(), static_cast<size_t>(kCalls));
  EXPECT_THAT(log, Each(Field(&TlsGitLab::LogEntry::protocol, "HTTP/2.0")));
  EXPECT_THAT(log, Each(Field(&TlsGitLab::LogEntry::private_token, "tls-token")));
  std::set<std::string> connections;
  for (const auto& entry : log) connections.insert(entry.connection);
  // PIPEWAIT: the calls wait for the first connection and share it.
  EXPECT_EQ(connections.size(), 1u);
}

TEST_F(TlsUpstreamTest, ExecuteOverHttp2MapsAnswersAndErrors) {
  auto h = Gateway();
  v1::Response response;
  grpc::Status status = h->Execute(Get("/projects/42"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.status_code(), 200);
  EXPECT_THAT(response.text(), ::testing::HasSubstr("group/demo"));
  EXPECT_EQ(response.rate_limit().limit(), 2000);
  EXPECT_EQ(response.rate_limit().remaining(), 1999);

  status = h->Execute(Get("/projects/7"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(OnlyDetail<v1::GitLabError>(status).body(),
              ::testing::HasSubstr("404 Not Found"));
  std::vector<TlsGitLab::LogEntry> log = tls_.Log(2);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].private_token, kDefaultToken);
  EXPECT_EQ(log[0].protocol, "HTTP/2.0");
}

TEST_F(TlsUpstreamTest, UntrustedCertificateIsUnavailableAndNeverSendsTheToken) {
  auto h = Gateway(/*trust=*/false);
  v1::Response response;
  grpc::Status status = h->Execute(Get("/projects/42"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status, HasReason("UPSTREAM_TLS_FAILURE"));
  // The handshake failed: no request (and so no token) reached the server.
  EXPECT_TRUE(tls_.Log().empty());
}

TEST_F(TlsUpstreamTest, BatchOverHttp2AnswersEveryItem) {
  auto h = Gateway();
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = h->stub->BatchExecute(&context);
  constexpr int kItems = 300;
  std::thread writer([&] {
    for (int i = 0; i < kItems; ++i) {
      v1::Request request = Get(i % 3 == 0 ? "/missing" : "/projects/42");
      request.set_id(absl::StrCat(i));
      if (!stream->Write(request)) break;
    }
    stream->WritesDone();
  });
  std::set<std::string> ids;
  int ok = 0, not_found = 0;
  v1::Response response;
  while (stream->Read(&response)) {
    ids.insert(response.id());
    if (!response.has_error()) {
      ++ok;
    } else if (response.error().code() == grpc::StatusCode::NOT_FOUND) {
      ++not_found;
    }
  }
  writer.join();
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kItems));
  EXPECT_EQ(ok, kItems - kItems / 3);
  EXPECT_EQ(not_found, kItems / 3);
}

}  // namespace
}  // namespace gitlab_gateway::testing
