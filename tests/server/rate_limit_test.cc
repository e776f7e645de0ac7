// Rate limits and retries end to end: the per-credential bucket, 429 pauses
// (Retry-After seconds, HTTP-date, RateLimit-Reset), safe retries, the retry
// budget, and deadlines shorter than a pause.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/blocking_counter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/metric_family.h"
#include "tests/server/async_calls.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::AnyOf;

v1::Request GetAs(std::string path, std::string token) {
  v1::Request request = Get(std::move(path));
  request.mutable_credentials()->set_private_token(std::move(token));
  return request;
}

// gitlab_gateway_paused_credentials{credential_class=...}, read from the
// registry (no /metrics endpoint needed).
double PausedCredentials(GatewayHarness& h, const std::string& credential_class) {
  for (const prometheus::MetricFamily& family :
       h.server->metrics().registry()->Collect()) {
    if (family.name != "gitlab_gateway_paused_credentials") continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        if (label.name == "credential_class" && label.value == credential_class) {
          return metric.gauge.value;
        }
      }
    }
  }
  return 0;
}

// Fires `calls` asynchronously (all at once unless spaced) and waits for all.
TEST(RateLimitTest, BucketHoldsUpstreamToRateAndBurst) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.limiter.per_minute = 50 * 60;  // 50/s
    config.upstream.limiter.burst = 10;
  });
  // 3 s of demand at 200/s, each call willing to wait up to 1 s.
  constexpr int kCalls = 600;
  AsyncCalls calls(kCalls);
  absl::Time start = absl::Now();
  for (int i = 0; i < kCalls; ++i) {
    absl::SleepFor(start + absl::Milliseconds(5 * i) - absl::Now());  // pacing
    v1::Request request = Get("/projects");
    request.mutable_timeout()->set_seconds(1);
    calls.Start(h, i, std::move(request));
  }
  // On a loaded machine the pacing slips and the demand lasts longer.
  const double demand_seconds = absl::ToDoubleSeconds(absl::Now() - start);
  calls.done.Wait();
  std::vector<RecordedRequest> seen = h.fake.requests();
  // 10 (burst) + 50/s over the demand plus the last 1 s of waiting.
  EXPECT_GE(seen.size(), 150u);
  EXPECT_LE(seen.size(), static_cast<size_t>(10 + 50 * (demand_seconds + 1) + 10));
  for (size_t i = 0; i < seen.size(); ++i) {
    size_t in_window = 0;
    for (size_t j = i; j < seen.size() &&
                       seen[j].received_at - seen[i].received_at < absl::Seconds(1);
         ++j) {
      ++in_window;
    }
    // rate + burst, plus slack for timer lateness on a loaded machine (an
    // unlimited gateway would show ~200 here).
    ASSERT_LE(in_window, 50u + 10u + 15u) << "window starting at request " << i;
  }
  size_t ok = 0;
  size_t late = 0;
  for (const grpc::Status& s : calls.statuses) {
    if (s.ok()) {
      ++ok;
      continue;
    }
    // Refused at once by the limiter; rarely (a loaded machine, ASan), a
    // slot granted at the very edge of the 1 s budget still runs out in the
    // engine's queue or before the answer is back.
    ASSERT_THAT(s.error_code(), AnyOf(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                      grpc::StatusCode::DEADLINE_EXCEEDED));
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      EXPECT_THAT(s, HasReason("GATEWAY_RATE_LIMITED"));
      OnlyDetail<google::rpc::RetryInfo>(s);
    } else {
      ++late;
    }
  }
  // Every answered call was sent upstream once; every other upstream request
  // belongs to a call that ran out of time.
  EXPECT_LE(ok, seen.size());
  EXPECT_LE(seen.size(), ok + late);
  EXPECT_LE(late, seen.size() / 10);
}

// First call with token "a" gets 429 + `header` from GitLab's per-user
// throttle (which pauses the whole credential); everything after answers 200.
void FirstRateLimitedThenOk(FakeGitLab& fake, std::string name,
                            std::string value) {
  auto first = std::make_shared<std::atomic<bool>>(true);
  fake.SetHandler([first, name, value](const RecordedRequest& r) {
    if (r.Header("PRIVATE-TOKEN") == "a" && first->exchange(false)) {
      return Reply::Text(429, "Retry later")
          .WithHeader("RateLimit-Name", "throttle_authenticated_api")
          .WithHeader(name, value);
    }
    return Reply::Json(200, R"({"ok":true})");
  });
}

// Asserts no request with token "a" reached the fake within `pause` after the
// first one, and returns the gap.
absl::Duration GapAfterFirst(const FakeGitLab& fake) {
  std::vector<RecordedRequest> seen = fake.requests();
  absl::Time first = absl::InfiniteFuture();
  absl::Time next = absl::InfiniteFuture();
  for (const RecordedRequest& r : seen) {
    if (r.Header("PRIVATE-TOKEN") != "a") continue;
    if (first == absl::InfiniteFuture()) {
      first = r.received_at;
    } else {
      next = std::min(next, r.received_at);
    }
  }
  return next - first;
}

TEST(RateLimitTest, RetryAfterPausesTheCredentialOnly) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.retry.max_attempts = 3;
  });
  FirstRateLimitedThenOk(h.fake, "Retry-After", "2");
  AsyncCalls calls(7);
  calls.Start(h, 0, GetAs("/projects", "a"));
  ASSERT_TRUE(h.fake.WaitForRequests(1, absl::Seconds(5)));
  // The 429 has landed once the credential shows as paused.
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (PausedCredentials(h, "caller") < 1 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_EQ(PausedCredentials(h, "caller"), 1);
  for (size_t i = 1; i < 6; ++i) calls.Start(h, i, GetAs("/projects", "a"));
  // Another credential passes during the pause.
  absl::Time other_start = absl::Now();
  calls.Start(h, 6, GetAs("/projects", "b"));
  calls.done.Wait();
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_TRUE(calls.statuses[i].ok()) << i << calls.statuses[i].error_message();
  }
  EXPECT_EQ(calls.responses[0].attempts(), 2);
  EXPECT_GE(GapAfterFirst(h.fake), absl::Milliseconds(1950));
  // The "b" request was answered long before the pause ended.
  for (const RecordedRequest& r : h.fake.requests()) {
    if (r.Header("PRIVATE-TOKEN") == "b") {
      EXPECT_LT(r.received_at - other_start, absl::Milliseconds(1500));
    }
  }
}

TEST(RateLimitTest, RetryAfterAsHttpDate) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.retry.max_attempts = 3;
  });
  // HTTP-dates have 1 s resolution: 4 s ahead leaves at least 2 s of pause
  // even when the answer reaches the gateway late on a loaded machine.
  std::string date = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                      absl::Now() + absl::Seconds(4),
                                      absl::UTCTimeZone());
  FirstRateLimitedThenOk(h.fake, "Retry-After", date);
  v1::Response response;
  ASSERT_TRUE(h.Execute(GetAs("/projects", "a"), &response).ok());
  EXPECT_EQ(response.attempts(), 2);
  EXPECT_GE(GapAfterFirst(h.fake), absl::Seconds(2));
}

TEST(RateLimitTest, RateLimitResetWhenNoRetryAfter) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.retry.max_attempts = 3;
  });
  FirstRateLimitedThenOk(
      h.fake, "RateLimit-Reset",
      std::to_string(absl::ToUnixSeconds(absl::Now() + absl::Seconds(4))));
  v1::Response response;
  ASSERT_TRUE(h.Execute(GetAs("/projects", "a"), &response).ok());
  EXPECT_EQ(response.attempts(), 2);
  EXPECT_GE(GapAfterFirst(h.fake), absl::Seconds(2));
}

TEST(RateLimitTest, DeadlineShorterThanThePauseFailsFast) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.retry.max_attempts = 3;
  });
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Text(429, "Retry later").WithHeader("Retry-After", "30");
  });
  v1::Request request = GetAs("/projects", "a");
  // Far shorter than the 30 s pause, long enough for a slow first exchange.
  request.mutable_timeout()->set_seconds(3);
  v1::Response response;
  absl::Time start = absl::Now();
  grpc::Status status = h.Execute(request, &response);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1500));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status, HasReason("GITLAB_RATE_LIMITED"));
  EXPECT_EQ(OnlyDetail<google::rpc::RetryInfo>(status).retry_delay().seconds(),
            30);
  // A second call during the pause never reaches GitLab.
  start = absl::Now();
  status = h.Execute(request, &response);
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1500));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status, HasReason("GATEWAY_RATE_LIMITED"));
  EXPECT_GE(OnlyDetail<google::rpc::RetryInfo>(status).retry_delay().seconds(),
            28);
  EXPECT_EQ(h.fake.request_count(), 1u);
}

TEST(RateLimitTest, PostIsNotRetriedOn503ButGetIs) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.retry.max_attempts = 3;
    config.upstream.retry.base = absl::Milliseconds(10);
  });
  h.fake.Enqueue(Reply::Json(503, R"({"message":"503"})"));
  v1::Request post = Get("/projects");
  post.set_method("POST");
  post.set_text("{}");
  v1::Response response;
  grpc::Status status = h.Execute(post, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(h.fake.request_count(), 1u);

  h.fake.ClearRecords();
  h.fake.Enqueue(Reply::Json(503, R"({"message":"503"})"));
  h.fake.Enqueue(Reply::Json(503, R"({"message":"503"})"));
  h.fake.Enqueue(Reply::Json(200, R"({"id":1})"));
  status = h.Execute(Get("/projects/1"), &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.attempts(), 3);
  EXPECT_EQ(response.text(), R"({"id":1})");
  EXPECT_EQ(h.fake.request_count(), 3u);
}

TEST(RateLimitTest, LastRealErrorCarriesTheAttempts) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.retry.max_attempts = 3;
    config.upstream.retry.base = absl::Milliseconds(10);
  });
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(502, R"({"message":"502 Bad Gateway"})");
  });
  v1::Response response;
  grpc::Status status = h.Execute(Get("/projects"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  auto info = OnlyDetail<google::rpc::ErrorInfo>(status);
  EXPECT_EQ(info.reason(), "GITLAB_BAD_GATEWAY");
  EXPECT_EQ(info.metadata().at("attempts"), "3");
  EXPECT_EQ(h.fake.request_count(), 3u);
}

TEST(RateLimitTest, ConnectFailureIsRetriedEvenForPost) {
  const ClosedPort closed;
  GatewayHarness h([&](server::GatewayConfig& config) {
    config.gitlab_url = absl::StrCat("http://127.0.0.1:", closed.port());
    config.upstream.retry.max_attempts = 3;
    config.upstream.retry.base = absl::Milliseconds(10);
  });
  v1::Request post = Get("/projects");
  post.set_method("POST");
  v1::Response response;
  grpc::Status status = h.Execute(post, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(OnlyDetail<google::rpc::ErrorInfo>(status).metadata().at("attempts"),
            "3");
}

TEST(RateLimitTest, BudgetStopsARetryStormWhenGitLabIsDown) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.retry.max_attempts = 3;
    config.upstream.retry.base = absl::Milliseconds(50);
    config.engine.max_in_flight = 100;
  });
  // Slow enough that all first attempts are in flight before any fails, also
  // on a loaded machine: the budget then sees all 100 calls active.
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(503, R"({"message":"503"})")
        .WithDelay(absl::Milliseconds(200));
  });
  constexpr int kCalls = 100;
  AsyncCalls calls(kCalls);
  for (int i = 0; i < kCalls; ++i) calls.Start(h, i, Get("/projects"));
  calls.done.Wait();
  for (const grpc::Status& s : calls.statuses) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  }
  double ratio = static_cast<double>(h.fake.request_count()) / kCalls;
  EXPECT_LE(ratio, 1.3) << h.fake.request_count() << " upstream calls";
  EXPECT_GT(ratio, 1.0);  // some retries did happen
}

TEST(RateLimitTest, RetryMetricsAreLabelledByCredentialClass) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.retry.max_attempts = 2;
    config.upstream.retry.base = absl::Milliseconds(10);
    config.metrics_address = "127.0.0.1:0";
  });
  h.fake.Enqueue(Reply::Json(503, "{}"));
  h.fake.Enqueue(Reply::Json(200, "{}"));
  v1::Response response;
  ASSERT_TRUE(h.Execute(GetAs("/projects", "secret-caller-token"), &response).ok());
  std::string text = h.ScrapeMetrics();
  EXPECT_THAT(text, ::testing::HasSubstr(
                        R"(gitlab_gateway_retries_total{credential_class="caller",reason="http_503"} 1)"));
  EXPECT_THAT(text, ::testing::HasSubstr("gitlab_gateway_limiter_wait_seconds_bucket"));
  EXPECT_THAT(text, ::testing::Not(::testing::HasSubstr("secret-caller-token")));
}

}  // namespace
}  // namespace gitlab_gateway::testing
