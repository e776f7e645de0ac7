// The engine against an upstream that breaks HTTP: endless 1xx heads until
// the deadline, garbage or a malformed status line instead of a response, and
// an unrequested extra response that would desynchronise a keep-alive
// connection. Each caller must get the documented code, or its own answer.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "service/engine/engine.h"
#include "service/engine/status_reason.h"
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

struct Result {
  absl::Notification done;
  absl::StatusOr<HttpResponse> value = absl::UnknownError("not completed");
  Completion Callback() {
    return [this](absl::StatusOr<HttpResponse> r) {
      value = std::move(r);
      done.Notify();
    };
  }
  bool Wait() { return done.WaitForNotificationWithTimeout(absl::Seconds(20)); }
};

HttpRequest Post(const FakeGitLab& fake, absl::Duration timeout) {
  HttpRequest request;
  request.method = "POST";
  request.url = absl::StrCat(fake.base_url(), "/api/v4/projects/1/issues");
  request.body = R"({"title":"t"})";
  request.header_lines = {"Content-Type: application/json"};
  request.deadline = absl::Now() + timeout;
  return request;
}

// The request reached GitLab, which kept answering "100 Continue" until the
// deadline: that is a call timeout, never a connect failure (which would
// invite a duplicate POST).
//
// Why the old clock comparison failed: curl 7.88 rounds an elapsed time UP
// to the millisecond when a second boundary lies between the transfer's
// start and now (Curl_timediff truncates a negative microsecond difference
// toward zero), so an event in the last millisecond before the deadline
// fires the timeout up to 1 ms early. A 990 ms timeout crosses a second
// boundary unless it starts in the first 10 ms of a second, and a 1xx head
// every 0.5 ms provides the event. Two rounds of 15 calls made the old code
// fail in nearly every run; each round takes about a second.
TEST(MisbehavingUpstreamTest, EndlessInformationalHeadsAreADeadline) {
  FakeGitLab fake;
  fake.SetHandler([](const RecordedRequest&) {
    Reply reply = Reply::Do(Reply::Action::kInformational);
    reply.drip_interval = absl::Microseconds(500);
    return reply;
  });
  EngineOptions options;
  options.connect_timeout = absl::Seconds(5);
  auto engine = MakeEngine(options);
  constexpr int kRounds = 2;
  constexpr int kCalls = 15;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<Result> results(kCalls);
    for (int i = 0; i < kCalls; ++i) {
      HttpRequest request =
          Post(fake, absl::Milliseconds(990) + absl::Microseconds(37 * i));
      ASSERT_TRUE(
          engine->Submit(std::move(request), results[i].Callback()).ok());
    }
    for (int i = 0; i < kCalls; ++i) {
      SCOPED_TRACE(absl::StrCat("round ", round, " call ", i));
      ASSERT_TRUE(results[i].Wait());
      ASSERT_FALSE(results[i].value.ok());
      EXPECT_EQ(results[i].value.status().code(),
                absl::StatusCode::kDeadlineExceeded)
          << results[i].value.status();
      EXPECT_EQ(ReasonOf(results[i].value.status()), "UPSTREAM_TIMEOUT");
    }
  }
  EXPECT_EQ(fake.request_count(), static_cast<size_t>(kRounds * kCalls));
}

struct BrokenAnswer {
  const char* name;
  std::string bytes;
};

// Whatever curl makes of it (HTTP/0.9 refused, a weird reply), an answer
// that is not HTTP is the upstream's fault: UNAVAILABLE, the README's
// UPSTREAM_PROTOCOL_ERROR, not the gateway refusing a protocol.
TEST(MisbehavingUpstreamTest, GarbageAndMalformedStatusLinesAreProtocolErrors) {
  const BrokenAnswer answers[] = {
      {"garbage", "this is not HTTP at all\r\n\r\n"},
      {"binary", std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03", 10)},
      {"status code not a number",
       "HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n"},
      {"no status code", "HTTP/1.1\r\nContent-Length: 0\r\n\r\n"},
      {"bad version", "HTTP/7.3 200 OK\r\nContent-Length: 0\r\n\r\n"},
      {"header without colon", "HTTP/1.1 200 OK\r\nContent-Length 2\r\n\r\n{}"},
  };
  for (const BrokenAnswer& answer : answers) {
    SCOPED_TRACE(answer.name);
    FakeGitLab fake;
    fake.Enqueue(Reply::Raw(answer.bytes));
    auto engine = MakeEngine();
    Result result;
    ASSERT_TRUE(
        engine->Submit(Post(fake, absl::Seconds(10)), result.Callback()).ok());
    ASSERT_TRUE(result.Wait());
    if (result.value.ok()) {
      // curl may accept a lenient variant; then it must be a plain answer.
      ADD_FAILURE() << "accepted with status " << result.value->status_code;
      continue;
    }
    EXPECT_EQ(result.value.status().code(), absl::StatusCode::kUnavailable)
        << result.value.status();
    EXPECT_EQ(ReasonOf(result.value.status()), "UPSTREAM_PROTOCOL_ERROR")
        << result.value.status();
  }
}

// The gateway's own refusal (a scheme it does not speak) stays
// FAILED_PRECONDITION: nothing was sent.
TEST(MisbehavingUpstreamTest, ASchemeTheGatewayRefusesIsNotAProtocolError) {
  FakeGitLab fake;
  Result result;  // outlives the engine, which completes into it
  auto engine = Engine::Create(EngineOptions{});  // https only
  ASSERT_TRUE(engine.ok());
  ASSERT_TRUE(
      (*engine)->Submit(Post(fake, absl::Seconds(10)), result.Callback()).ok());
  ASSERT_TRUE(result.Wait());
  EXPECT_EQ(result.value.status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(result.value.status()), "UPSTREAM_PROTOCOL_REFUSED");
  EXPECT_EQ(fake.request_count(), 0u);
}

// Each answer names the credential it was for.
Reply AnswerFor(const RecordedRequest& request) {
  std::string token = request.Header("PRIVATE-TOKEN").value_or("-");
  return Reply::Json(200, absl::StrCat(R"({"for":")", token, R"("})"));
}

constexpr char kUnrequested[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Content-Length: 17\r\n\r\n{\"for\":\"mallory\"}";

HttpRequest Call(const FakeGitLab& fake, absl::string_view method,
                 absl::string_view token) {
  HttpRequest request;
  request.method = std::string(method);
  request.url = absl::StrCat(fake.base_url(), "/api/v4/user");
  request.header_lines = {absl::StrCat("PRIVATE-TOKEN: ", token)};
  request.deadline = absl::Now() + absl::Seconds(10);
  return request;
}

// Runs one call to completion and returns its body (or its error).
std::string BodyOf(Engine& engine, HttpRequest request) {
  Result result;
  EXPECT_TRUE(engine.Submit(std::move(request), result.Callback()).ok());
  EXPECT_TRUE(result.Wait());
  if (!result.value.ok()) return result.value.status().ToString();
  return result.value->body;
}

// An upstream writes a second, unrequested response after alice's answer on
// her keep-alive connection. The next caller on that connection would read
// it as its own answer, and every later caller the previous one's. The
// engine must notice the unread bytes before sending and use another
// connection: each caller gets exactly its own answer.
TEST(MisbehavingUpstreamTest, AnUnrequestedResponseNeverReachesTheNextCaller) {
  FakeGitLab fake;
  fake.SetHandler([](const RecordedRequest& request) {
    Reply reply = AnswerFor(request);
    if (request.Header("PRIVATE-TOKEN") == "alice") {
      reply.unsolicited = kUnrequested;
    }
    return reply;
  });
  EngineOptions options;
  options.max_in_flight = 1;  // one connection, reused while it is clean
  std::atomic<int> unclean{0};
  options.on_unclean_connection = [&unclean] { ++unclean; };
  auto engine = MakeEngine(options);
  EXPECT_EQ(BodyOf(*engine, Call(fake, "GET", "alice")), R"({"for":"alice"})");
  ASSERT_TRUE(fake.WaitForUnsolicitedSent(1, absl::Seconds(10)));
  EXPECT_EQ(BodyOf(*engine, Call(fake, "POST", "bob")), R"({"for":"bob"})");
  EXPECT_EQ(BodyOf(*engine, Call(fake, "GET", "carol")), R"({"for":"carol"})");
  EXPECT_EQ(BodyOf(*engine, Call(fake, "GET", "dave")), R"({"for":"dave"})");
  // Nothing was sent on the poisoned connection: no request twice.
  std::vector<RecordedRequest> requests = fake.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].connection_id, 1);
  EXPECT_EQ(requests[1].connection_id, 2);
  EXPECT_EQ(requests[2].connection_id, 2);  // a clean connection is reused
  EXPECT_EQ(requests[3].connection_id, 2);
  EXPECT_EQ(fake.connections_accepted(), 2);
  EXPECT_EQ(unclean.load(), 1);
}

// Every answer is followed by an unrequested one, so every reuse is refused:
// more refusals in a row than curl's own retry limit for a dead connection
// (5) never fail a call, since each call meets at most one poisoned
// connection.
TEST(MisbehavingUpstreamTest, EveryPoisonedConnectionIsRefused) {
  FakeGitLab fake;
  fake.SetHandler([](const RecordedRequest& request) {
    Reply reply = AnswerFor(request);
    reply.unsolicited = kUnrequested;
    reply.unsolicited_delay = absl::Milliseconds(1);
    // Sent once the caller has its answer: bytes in the same read as the
    // answer make curl close the connection itself, with no refusal counted.
    reply.hold_unsolicited = true;
    return reply;
  });
  EngineOptions options;
  options.max_in_flight = 1;
  std::atomic<int> unclean{0};
  options.on_unclean_connection = [&unclean] { ++unclean; };
  auto engine = MakeEngine(options);
  constexpr int kCalls = 8;
  for (int i = 0; i < kCalls; ++i) {
    std::string token = absl::StrCat("caller", i);
    EXPECT_EQ(BodyOf(*engine, Call(fake, i % 2 ? "POST" : "GET", token)),
              absl::StrCat(R"({"for":")", token, R"("})"));
    fake.ReleaseUnsolicited();
    ASSERT_TRUE(fake.WaitForUnsolicitedSent(i + 1, absl::Seconds(10)));
  }
  EXPECT_EQ(fake.request_count(), static_cast<size_t>(kCalls));
  EXPECT_EQ(fake.connections_accepted(), kCalls);
  EXPECT_EQ(unclean.load(), kCalls - 1);
}

// Three poisoned connections wait in the cache; the next call is refused on
// each in turn (curl re-runs the check on every connection it picks) and goes
// out on a fresh one.
TEST(MisbehavingUpstreamTest, SeveralPoisonedConnectionsAreAllSkipped) {
  FakeGitLab fake;
  fake.SetHandler([](const RecordedRequest& request) {
    Reply reply = AnswerFor(request);
    if (request.Header("PRIVATE-TOKEN") != "bob") {
      reply.unsolicited = kUnrequested;
      // Held so that the three calls need three connections.
      reply.delay = absl::Milliseconds(100);
    }
    return reply;
  });
  EngineOptions options;
  options.max_in_flight = 3;
  std::atomic<int> unclean{0};
  options.on_unclean_connection = [&unclean] { ++unclean; };
  auto engine = MakeEngine(options);
  std::vector<Result> first(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(engine
                    ->Submit(Call(fake, "GET", absl::StrCat("p", i)),
                             first[i].Callback())
                    .ok());
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(first[i].Wait());
    ASSERT_TRUE(first[i].value.ok()) << first[i].value.status();
    EXPECT_EQ(first[i].value->body, absl::StrCat(R"({"for":"p)", i, R"("})"));
  }
  ASSERT_EQ(fake.connections_accepted(), 3);
  ASSERT_TRUE(fake.WaitForUnsolicitedSent(3, absl::Seconds(10)));
  EXPECT_EQ(BodyOf(*engine, Call(fake, "POST", "bob")), R"({"for":"bob"})");
  EXPECT_EQ(unclean.load(), 3);
  EXPECT_EQ(fake.connections_accepted(), 4);
  EXPECT_EQ(fake.request_count(), 4u);
}

// More poisoned connections than curl retries on (5) for one call: that call
// fails as a connect failure (nothing was sent, safe to retry for any method),
// never with another caller's answer; the next call goes through.
TEST(MisbehavingUpstreamTest,
     MorePoisonedConnectionsThanCurlRetriesFailCleanly) {
  FakeGitLab fake;
  fake.SetHandler([](const RecordedRequest& request) {
    Reply reply = AnswerFor(request);
    if (absl::StartsWith(request.Header("PRIVATE-TOKEN").value_or(""), "p")) {
      reply.unsolicited = kUnrequested;
      reply.delay = absl::Milliseconds(100);  // one connection per call
    }
    return reply;
  });
  constexpr int kPoisoned = 7;
  EngineOptions options;
  options.max_in_flight = kPoisoned;
  std::atomic<int> unclean{0};
  options.on_unclean_connection = [&unclean] { ++unclean; };
  auto engine = MakeEngine(options);
  std::vector<Result> first(kPoisoned);
  for (int i = 0; i < kPoisoned; ++i) {
    ASSERT_TRUE(engine
                    ->Submit(Call(fake, "GET", absl::StrCat("p", i)),
                             first[i].Callback())
                    .ok());
  }
  for (Result& result : first) ASSERT_TRUE(result.Wait());
  ASSERT_EQ(fake.connections_accepted(), kPoisoned);
  ASSERT_TRUE(fake.WaitForUnsolicitedSent(kPoisoned, absl::Seconds(10)));
  Result bob;
  ASSERT_TRUE(engine->Submit(Call(fake, "POST", "bob"), bob.Callback()).ok());
  ASSERT_TRUE(bob.Wait());
  ASSERT_FALSE(bob.value.ok()) << bob.value->body;
  EXPECT_EQ(bob.value.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ReasonOf(bob.value.status()), "UPSTREAM_CONNECT_FAILURE")
      << bob.value.status();
  EXPECT_FALSE(ResponseStarted(bob.value.status()));
  EXPECT_EQ(unclean.load(), 6);  // the first connection and 5 retries
  EXPECT_EQ(fake.request_count(), static_cast<size_t>(kPoisoned));
  EXPECT_EQ(BodyOf(*engine, Call(fake, "POST", "carol")), R"({"for":"carol"})");
  // When curl gives up it keeps the last refused connection (shut down, bytes
  // unread); it is refused again when picked, then closed.
  EXPECT_GE(unclean.load(), kPoisoned);
  EXPECT_EQ(fake.request_count(), static_cast<size_t>(kPoisoned + 1));
}

}  // namespace
}  // namespace gitlab_gateway::engine
