// The curl-multi engine on its own, against the fake GitLab: completions
// exactly once, the in-flight cap and the queue, cancel, expiry, shutdown.
#include "service/engine/engine.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "service/engine/curl_status.h"
#include "tests/support/fake_gitlab.h"

namespace gitlab_gateway::engine {
namespace {

using testing::FakeGitLab;
using testing::RecordedRequest;
using testing::Reply;

std::unique_ptr<Engine> MakeEngine(EngineOptions options = {}) {
  options.protocol = "http";
  auto engine = Engine::Create(std::move(options));
  EXPECT_TRUE(engine.ok()) << engine.status();
  return *std::move(engine);
}

HttpRequest Get(const FakeGitLab& fake, absl::string_view path) {
  HttpRequest request;
  request.url = absl::StrCat(fake.base_url(), path);
  request.deadline = absl::Now() + absl::Seconds(10);
  return request;
}

// Collects one completion.
struct Result {
  absl::Notification done;
  absl::StatusOr<HttpResponse> value = absl::UnknownError("not completed");
  Completion Callback() {
    return [this](absl::StatusOr<HttpResponse> r) {
      value = std::move(r);
      done.Notify();
    };
  }
  bool Wait() { return done.WaitForNotificationWithTimeout(absl::Seconds(10)); }
};

TEST(EngineTest, GetReturnsStatusHeadersAndBody) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Json(201, R"({"id":1})").WithHeader("X-Total", "1"));
  Result result;
  auto engine = MakeEngine();
  HttpRequest request = Get(fake, "/api/v4/projects");
  request.header_lines = {"PRIVATE-TOKEN: t"};
  ASSERT_TRUE(engine->Submit(std::move(request), result.Callback()).ok());
  ASSERT_TRUE(result.Wait());
  ASSERT_TRUE(result.value.ok()) << result.value.status();
  EXPECT_EQ(result.value->status_code, 201);
  EXPECT_EQ(result.value->body, R"({"id":1})");
  EXPECT_EQ(result.value->content_type, "application/json");
  bool saw_total = false;
  for (const auto& [name, value] : result.value->headers) {
    if (name == "X-Total" && value == "1") saw_total = true;
  }
  EXPECT_TRUE(saw_total);
  EXPECT_EQ(fake.requests().at(0).Header("PRIVATE-TOKEN"), "t");
  // curl's Expect: 100-continue is suppressed.
  EXPECT_EQ(fake.requests().at(0).Header("Expect"), std::nullopt);
}

TEST(EngineTest, CapsInFlightAndCompletesEverySubmissionOnce) {
  FakeGitLab fake;
  fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(200, "{}").WithDelay(absl::Milliseconds(5));
  });
  EngineOptions options;
  options.max_in_flight = 3;
  auto engine = MakeEngine(options);
  constexpr int kCount = 60;
  std::atomic<int> completions{0};
  absl::BlockingCounter all(kCount);
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(engine
                    ->Submit(Get(fake, "/x"),
                             [&](absl::StatusOr<HttpResponse> r) {
                               EXPECT_TRUE(r.ok()) << r.status();
                               completions.fetch_add(1);
                               all.DecrementCount();
                             })
                    .ok());
  }
  all.Wait();
  EXPECT_EQ(completions.load(), kCount);
  EXPECT_LE(fake.max_in_progress(), 3);
  EXPECT_LE(fake.connections_accepted(), 3);  // keep-alive reuse
  EXPECT_EQ(engine->load().in_flight, 0u);
  EXPECT_EQ(engine->load().queued, 0u);
}

TEST(EngineTest, CancelInFlightClosesTheConnection) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Do(Reply::Action::kStall));
  Result result;
  auto engine = MakeEngine();
  auto id = engine->Submit(Get(fake, "/stall"), result.Callback());
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(fake.WaitForRequests(1, absl::Seconds(5)));
  engine->Cancel(*id);
  ASSERT_TRUE(result.Wait());
  EXPECT_EQ(result.value.status().code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(fake.WaitForClosedByClient(1, absl::Seconds(5)));
  engine->Cancel(*id);  // a second cancel is a no-op
}

TEST(EngineTest, CancelWhileQueuedNeverReachesUpstream) {
  FakeGitLab fake;
  fake.SetHandler(
      [](const RecordedRequest&) { return Reply::Do(Reply::Action::kStall); });
  EngineOptions options;
  options.max_in_flight = 1;
  Result first, second;
  auto engine = MakeEngine(options);
  auto first_id = engine->Submit(Get(fake, "/first"), first.Callback());
  ASSERT_TRUE(fake.WaitForRequests(1, absl::Seconds(5)));
  auto second_id = engine->Submit(Get(fake, "/second"), second.Callback());
  engine->Cancel(*second_id);
  ASSERT_TRUE(second.Wait());
  EXPECT_EQ(second.value.status().code(), absl::StatusCode::kCancelled);
  engine->Cancel(*first_id);
  ASSERT_TRUE(first.Wait());
  EXPECT_EQ(fake.request_count(), 1u);
  EXPECT_EQ(engine->load().queued, 0u);
}

TEST(EngineTest, DeadlinePassingInTheQueueFailsWithQueueTimeout) {
  FakeGitLab fake;
  fake.SetHandler(
      [](const RecordedRequest&) { return Reply::Do(Reply::Action::kStall); });
  EngineOptions options;
  options.max_in_flight = 1;
  Result blocker, queued;
  auto engine = MakeEngine(options);
  auto blocker_id = engine->Submit(Get(fake, "/block"), blocker.Callback());
  ASSERT_TRUE(fake.WaitForRequests(1, absl::Seconds(5)));
  HttpRequest short_lived = Get(fake, "/late");
  short_lived.deadline = absl::Now() + absl::Milliseconds(100);
  ASSERT_TRUE(engine->Submit(std::move(short_lived), queued.Callback()).ok());
  ASSERT_TRUE(queued.Wait());
  EXPECT_EQ(queued.value.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ReasonOf(queued.value.status()), "QUEUE_TIMEOUT");
  engine->Cancel(*blocker_id);
  ASSERT_TRUE(blocker.Wait());
}

TEST(EngineTest, FullQueueRefusesAtOnceAndStillCompletesOnce) {
  FakeGitLab fake;
  fake.SetHandler(
      [](const RecordedRequest&) { return Reply::Do(Reply::Action::kStall); });
  EngineOptions options;
  options.max_in_flight = 1;
  options.max_queue = 1;
  Result a, b, c;
  auto engine = MakeEngine(options);
  auto a_id = engine->Submit(Get(fake, "/a"), a.Callback());
  ASSERT_TRUE(fake.WaitForRequests(1, absl::Seconds(5)));
  auto b_id = engine->Submit(Get(fake, "/b"), b.Callback());
  ASSERT_TRUE(b_id.ok());
  auto c_id = engine->Submit(Get(fake, "/c"), c.Callback());
  ASSERT_FALSE(c_id.ok());
  EXPECT_EQ(c_id.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ReasonOf(c_id.status()), "GATEWAY_OVERLOADED");
  ASSERT_TRUE(c.done.HasBeenNotified());  // refused: completed synchronously
  engine->Cancel(*a_id);
  engine->Cancel(*b_id);
  ASSERT_TRUE(a.Wait());
  ASSERT_TRUE(b.Wait());
}

TEST(EngineTest, ShutdownCompletesPendingTransfers) {
  FakeGitLab fake;
  fake.SetHandler(
      [](const RecordedRequest&) { return Reply::Do(Reply::Action::kStall); });
  EngineOptions options;
  options.max_in_flight = 1;
  Result in_flight, queued;
  auto engine = MakeEngine(options);
  ASSERT_TRUE(engine->Submit(Get(fake, "/a"), in_flight.Callback()).ok());
  ASSERT_TRUE(fake.WaitForRequests(1, absl::Seconds(5)));
  ASSERT_TRUE(engine->Submit(Get(fake, "/b"), queued.Callback()).ok());
  engine.reset();
  ASSERT_TRUE(in_flight.done.HasBeenNotified());
  ASSERT_TRUE(queued.done.HasBeenNotified());
  EXPECT_EQ(in_flight.value.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(queued.value.status()), "GATEWAY_SHUTTING_DOWN");
}

// A server whose accept queue is full drops further SYNs, so a connect to it
// hangs: the connect timeout ends it long before the deadline, as a connect
// failure (retryable, GitLab never saw the request), not a call timeout.
TEST(EngineTest, ConnectTimeoutIsAConnectFailure) {
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 0), 0);  // never accepted
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {  // fill the accept queue
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    (void)connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    fillers.push_back(fd);
  }
  absl::SleepFor(absl::Milliseconds(50));
  EngineOptions options;
  options.connect_timeout = absl::Milliseconds(200);
  Result result;
  auto engine = MakeEngine(options);
  HttpRequest request;
  request.url = absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/x");
  request.deadline = absl::Now() + absl::Seconds(20);
  absl::Time start = absl::Now();
  ASSERT_TRUE(engine->Submit(std::move(request), result.Callback()).ok());
  ASSERT_TRUE(result.Wait());
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ASSERT_FALSE(result.value.ok());
  EXPECT_EQ(result.value.status().code(), absl::StatusCode::kUnavailable)
      << result.value.status();
  EXPECT_EQ(ReasonOf(result.value.status()), "UPSTREAM_CONNECT_FAILURE");
  for (int fd : fillers) close(fd);
  close(listener);
}

TEST(EngineTest, OnlyTheConfiguredProtocolIsSpoken) {
  FakeGitLab fake;
  EngineOptions options;
  Result result;  // outlives the engine, which completes into it
  auto engine = Engine::Create(options);  // https only
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE((*engine)->Submit(Get(fake, "/x"), result.Callback()).ok());
  ASSERT_TRUE(result.Wait());
  EXPECT_EQ(ReasonOf(result.value.status()), "UPSTREAM_PROTOCOL_REFUSED");
  EXPECT_EQ(fake.request_count(), 0u);
}

TEST(EngineTest, RejectsBadOptions) {
  EngineOptions options;
  options.max_in_flight = 0;
  EXPECT_EQ(Engine::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.max_in_flight = 1;
  options.protocol = "ftp";
  EXPECT_EQ(Engine::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gitlab_gateway::engine
