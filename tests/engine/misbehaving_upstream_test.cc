// The engine against an upstream that breaks HTTP: endless 1xx heads until
// the deadline, garbage or a malformed status line instead of a response.
// Each caller must get the documented code.
#include <memory>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace gitlab_gateway::engine
