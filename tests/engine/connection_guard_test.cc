// ConnectionGuard over TLS: an unrequested response relayed through TLS on an
// HTTP/1.1 connection is refused like on plain TCP, while clean HTTP/1.1 and
// HTTP/2 connections (whose sockets may hold TLS records or frames of other
// streams at any time) are reused and never refused.
#include "service/engine/connection_guard.h"

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "service/engine/engine.h"
#include "tests/support/fake_gitlab.h"
#include "tests/support/tls_gitlab.h"
#include "tests/support/tls_relay.h"

namespace gitlab_gateway::engine {
namespace {

using testing::FakeGitLab;
using testing::RecordedRequest;
using testing::Reply;
using testing::TlsGitLab;
using testing::TlsRelay;

struct Result {
  absl::Notification done;
  absl::StatusOr<HttpResponse> value = absl::UnknownError("not completed");
  Completion Callback() {
    return [this](absl::StatusOr<HttpResponse> r) {
      value = std::move(r);
      done.Notify();
    };
  }
};

// Runs one call to completion and returns its body (or its error).
std::string BodyOf(Engine& engine, const std::string& url,
                   absl::string_view token) {
  HttpRequest request;
  request.url = url;
  request.header_lines = {absl::StrCat("PRIVATE-TOKEN: ", token)};
  request.deadline = absl::Now() + absl::Seconds(10);
  Result result;
  EXPECT_TRUE(engine.Submit(std::move(request), result.Callback()).ok());
  EXPECT_TRUE(result.done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  if (!result.value.ok()) return result.value.status().ToString();
  return result.value->body;
}

std::string Answer(absl::string_view token) {
  return absl::StrCat(R"({"for":")", token, R"("})");
}

class TlsHttp1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(relay_.status().ok()) << relay_.status();
    fake_.SetHandler([this](const RecordedRequest& request) {
      std::string token = request.Header("PRIVATE-TOKEN").value_or("-");
      Reply reply = Reply::Json(200, Answer(token));
      if (token == poisoner_) {
        reply.hold_unsolicited = true;  // until the answer is read
        reply.unsolicited =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            "Content-Length: 17\r\n\r\n{\"for\":\"mallory\"}";
      }
      return reply;
    });
    EngineOptions options;
    options.protocol = "https";
    options.ca_file = relay_.ca_file();
    options.max_in_flight = 1;
    options.on_unclean_connection = [this] { ++unclean_; };
    auto engine = Engine::Create(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }

  std::string Url() const { return relay_.base_url() + "/api/v4/user"; }

  FakeGitLab fake_;
  TlsRelay relay_{fake_.port()};
  std::string poisoner_ = "nobody";  // set before any call
  std::atomic<int> unclean_{0};
  std::unique_ptr<Engine> engine_;
};

TEST_F(TlsHttp1Test, AnUnrequestedResponseNeverReachesTheNextCaller) {
  poisoner_ = "alice";
  EXPECT_EQ(BodyOf(*engine_, Url(), "alice"), Answer("alice"));
  fake_.ReleaseUnsolicited();
  ASSERT_TRUE(fake_.WaitForUnsolicitedSent(1, absl::Seconds(10)));
  // The stray bytes wait in curl's socket (not only in the relay) before bob
  // calls; bytes arriving later are the README's residual risk.
  ASSERT_TRUE(
      relay_.WaitForForwardedToClient(fake_.bytes_sent(), absl::Seconds(10)));
  EXPECT_EQ(BodyOf(*engine_, Url(), "bob"), Answer("bob"));
  EXPECT_EQ(BodyOf(*engine_, Url(), "carol"), Answer("carol"));
  EXPECT_EQ(unclean_.load(), 1);
  EXPECT_EQ(fake_.request_count(), 3u);
  EXPECT_EQ(fake_.connections_accepted(), 2);
}

// TLS records that are not application data (session tickets) must not make
// a clean connection look unclean.
TEST_F(TlsHttp1Test, CleanConnectionsAreReused) {
  constexpr int kCalls = 10;
  for (int i = 0; i < kCalls; ++i) {
    std::string token = absl::StrCat("caller", i);
    EXPECT_EQ(BodyOf(*engine_, Url(), token), Answer(token));
  }
  EXPECT_EQ(unclean_.load(), 0);
  EXPECT_EQ(fake_.connections_accepted(), 1);
}

// HTTP/2 multiplexes: frames for other streams may wait in the socket when a
// new stream starts. The guard never looks at such connections.
TEST(ConnectionGuardHttp2Test, Http2ConnectionsAreNeverRefused) {
  TlsGitLab tls;
  ASSERT_TRUE(tls.status().ok()) << tls.status();
  EngineOptions options;
  options.protocol = "https";
  options.ca_file = tls.ca_file();
  std::atomic<int> unclean{0};
  options.on_unclean_connection = [&unclean] { ++unclean; };
  auto engine = Engine::Create(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  const std::string url = tls.base_url() + "/api/v4/projects/42";
  for (int round = 0; round < 3; ++round) {
    constexpr int kCalls = 20;
    absl::BlockingCounter done(kCalls);
    std::atomic<int> ok{0};
    for (int i = 0; i < kCalls; ++i) {
      HttpRequest request;
      request.url = url;
      request.deadline = absl::Now() + absl::Seconds(20);
      ASSERT_TRUE((*engine)
                      ->Submit(std::move(request),
                               [&](absl::StatusOr<HttpResponse> r) {
                                 if (r.ok() && r->status_code == 200) ++ok;
                                 done.DecrementCount();
                               })
                      .ok());
    }
    done.Wait();
    EXPECT_EQ(ok.load(), kCalls);
  }
  std::vector<TlsGitLab::LogEntry> log = tls.Log(60);
  ASSERT_EQ(log.size(), 60u);
  std::set<std::string> connections;
  for (const auto& entry : log) {
    EXPECT_EQ(entry.protocol, "HTTP/2.0");
    connections.insert(entry.connection);
  }
  EXPECT_EQ(connections.size(), 1u);
  EXPECT_EQ(unclean.load(), 0);
}

}  // namespace
}  // namespace gitlab_gateway::engine
