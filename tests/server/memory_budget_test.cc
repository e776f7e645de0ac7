// Byte budgets end to end: a BatchExecute stream over its budget stops
// reading, a stream that never reads holds no more than its budget (answers
// beyond it fail with GATEWAY_OVERLOADED), and the gateway-wide budget sheds
// Execute calls and batch items with RESOURCE_EXHAUSTED (GATEWAY_OVERLOADED)
// before memory grows. Budgets are small so every bound is a count, not a
// timing.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

// Upstream answers wait here until the test lets them through.
class Gate {
 public:
  void Open(int n) {
    absl::MutexLock lock(&mu_);
    tokens_ += n;
  }
  // Called by the fake's connection threads; gives up after 30 s so a
  // failing test cannot hang the fake's destructor.
  void Pass() {
    absl::MutexLock lock(&mu_);
    auto open = [this] { return tokens_ > 0; };
    if (mu_.AwaitWithTimeout(absl::Condition(&open), absl::Seconds(30))) {
      --tokens_;
    }
  }

 private:
  absl::Mutex mu_;
  int tokens_ ABSL_GUARDED_BY(mu_) = 0;
};

v1::Request Post(std::string path, size_t body_bytes) {
  v1::Request request = Get(std::move(path));
  request.set_method("POST");
  request.set_text(std::string(body_bytes, 'x'));
  return request;
}

// A metric's value summed over its series, read from the registry.
double MetricSum(GatewayHarness& h, const std::string& name) {
  double sum = 0;
  for (const prometheus::MetricFamily& family :
       h.server->metrics().registry()->Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      sum += metric.gauge.value + metric.counter.value;
    }
  }
  return sum;
}

TEST(MemoryBudgetTest, StreamOverItsBudgetStopsReading) {
  Gate gate;
  GatewayHarness h(
      [](server::GatewayConfig& config) { config.stream_budget_bytes = kMiB; });
  h.fake.SetHandler([&gate](const RecordedRequest&) {
    gate.Pass();
    return Reply::Json(200, "{}");
  });
  // 300 KiB bodies: three fit under 1 MiB, the fourth read fills it.
  constexpr int kItems = 12;
  constexpr size_t kAllowed = 4;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = h.stub->BatchExecute(&context);
  std::thread writer([&] {
    for (int i = 0; i < kItems; ++i) {
      if (!stream->Write(Post("/projects", 300 << 10))) break;
    }
    stream->WritesDone();
  });
  std::atomic<int> answered{0}, ok{0};
  std::thread reader([&] {
    v1::Response response;
    while (stream->Read(&response)) {
      if (!response.has_error())
        ok.fetch_add(1);
      else
        ADD_FAILURE() << response.ShortDebugString();
      answered.fetch_add(1);
    }
  });
  // Not ASSERT: the threads must be joined whatever happens.
  EXPECT_TRUE(h.fake.WaitForRequests(kAllowed, absl::Seconds(20)));
  // Without a byte budget all twelve arrive within milliseconds.
  EXPECT_FALSE(h.fake.WaitForRequests(kAllowed + 1, absl::Milliseconds(500)));
  EXPECT_EQ(h.fake.max_in_progress(), static_cast<int>(kAllowed));
  // One answer frees one item's bytes: exactly one more is read.
  gate.Open(1);
  EXPECT_TRUE(h.fake.WaitForRequests(kAllowed + 1, absl::Seconds(20)));
  EXPECT_FALSE(h.fake.WaitForRequests(kAllowed + 2, absl::Milliseconds(500)));
  EXPECT_LE(h.fake.max_in_progress(), static_cast<int>(kAllowed));
  gate.Open(kItems);
  writer.join();
  reader.join();
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(answered.load(), kItems);
  EXPECT_EQ(ok.load(), kItems);
  EXPECT_LE(h.fake.max_in_progress(), static_cast<int>(kAllowed));
}

TEST(MemoryBudgetTest, StreamThatNeverReadsHoldsAtMostItsBudget) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.stream_budget_bytes = kMiB;
    config.memory_budget_bytes = 64 * kMiB;
  });
  constexpr size_t kAnswerBytes = 256 << 10;
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(
        200, absl::StrCat("\"", std::string(kAnswerBytes, 'a'), "\""));
  });
  // 32 MiB of answers: far more than the budget plus what gRPC's flow
  // control buffers on the way to a caller that does not read.
  constexpr int kItems = 128;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = h.stub->BatchExecute(&context);
  for (int i = 0; i < kItems; ++i) {
    v1::Request request = Get("/projects");
    request.set_id(absl::StrCat(i));
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  // Quiet: no item in flight, and either every item was read or reading
  // paused on the full budget (the gateway holds answers nobody reads).
  absl::Time give_up = absl::Now() + absl::Seconds(30);
  bool quiet = false;
  while (!quiet && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
    const double started = MetricSum(h, "gitlab_gateway_batch_items_total") +
                           MetricSum(h, "gitlab_gateway_batch_items_in_flight");
    quiet = MetricSum(h, "gitlab_gateway_batch_items_in_flight") == 0 &&
            (started >= kItems || h.server->memory_budget().used() >= kMiB);
  }
  EXPECT_TRUE(quiet);
  // Answers are charged as they arrive; encoding adds their headers and ids
  // (a few hundred bytes each) and the failed items' small errors.
  EXPECT_LE(h.server->memory_budget().peak(), kMiB + 128 * 1024);

  // Now read everything: each item answered once, the ones that did not fit
  // with GATEWAY_OVERLOADED.
  int ok = 0, overloaded = 0, answered = 0;
  v1::Response response;
  while (stream->Read(&response)) {
    ++answered;
    if (!response.has_error()) {
      ++ok;
      EXPECT_EQ(response.text().size(), kAnswerBytes + 2);
    } else if (response.error().code() ==
                   grpc::StatusCode::RESOURCE_EXHAUSTED &&
               Reason(response.error()) == "GATEWAY_OVERLOADED") {
      ++overloaded;
      EXPECT_THAT(response.error().message(),
                  ::testing::HasSubstr("stream memory budget"));
    }
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(answered, kItems);
  EXPECT_EQ(ok + overloaded, kItems);
  EXPECT_GE(overloaded, 1);
  h.WaitForNoTransfersInFlight(absl::Seconds(5));
  EXPECT_EQ(h.server->memory_budget().used(), 0u);
}

// Waits for the gateway to give every buffered byte back.
bool WaitForEmptyBudget(GatewayHarness& h) {
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (h.server->memory_budget().used() != 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  return h.server->memory_budget().used() == 0;
}

void ScriptStallAndBig(FakeGitLab& fake) {
  fake.SetHandler([](const RecordedRequest& r) {
    if (absl::StartsWith(r.path, "/api/v4/stall")) {
      return Reply::Do(Reply::Action::kStall);
    }
    if (absl::StartsWith(r.path, "/api/v4/big")) {
      return Reply::Json(200, std::string(2 * kMiB, '1'));
    }
    return Reply::Json(200, "{}");
  });
}

TEST(MemoryBudgetTest, GatewayBudgetShedsExecuteCalls) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.stream_budget_bytes = kMiB;
    config.memory_budget_bytes = kMiB;
  });
  ScriptStallAndBig(h.fake);
  // A call holding 700 KiB of request body upstream.
  grpc::ClientContext stalled_context;
  v1::Response stalled_response;
  std::atomic<bool> stalled_done{false};
  grpc::Status stalled_status;
  const v1::Request stalled_request = Post("/stall", 700 << 10);
  h.stub->async()->Execute(&stalled_context, &stalled_request,
                           &stalled_response, [&](grpc::Status s) {
                             stalled_status = s;
                             stalled_done.store(true);
                           });
  EXPECT_TRUE(h.fake.WaitForRequests(1, absl::Seconds(10)));

  v1::Response response;
  grpc::Status shed = h.Execute(Post("/projects", 500 << 10), &response);
  EXPECT_EQ(shed.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(shed, HasReason("GATEWAY_OVERLOADED"));
  EXPECT_THAT(shed.error_message(),
              ::testing::HasSubstr("gateway memory budget"));
  // An answer that does not fit fails as it arrives.
  grpc::Status big = h.Execute(Get("/big"), &response);
  EXPECT_EQ(big.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(big, HasReason("GATEWAY_OVERLOADED"));
  // What fits still goes through.
  EXPECT_TRUE(h.Execute(Post("/projects", 100 << 10), &response).ok());
  EXPECT_EQ(h.fake.request_count(), 3u) << "the shed call reached GitLab";

  stalled_context.TryCancel();
  absl::Time give_up = absl::Now() + absl::Seconds(10);
  while (!stalled_done.load() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(stalled_done.load());
  EXPECT_EQ(stalled_status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(WaitForEmptyBudget(h));
}

TEST(MemoryBudgetTest, PageOverTheGatewayBudgetEndsPaginate) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.stream_budget_bytes = kMiB;
    config.memory_budget_bytes = kMiB;
  });
  ScriptStallAndBig(h.fake);
  v1::PaginateRequest request;
  *request.mutable_request() = Get("/big");
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  auto reader = h.stub->Paginate(&context, request);
  v1::Response page;
  EXPECT_FALSE(reader->Read(&page));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status, HasReason("GATEWAY_OVERLOADED"));
  EXPECT_TRUE(WaitForEmptyBudget(h));
}

TEST(MemoryBudgetTest, BatchItemOverTheGatewayBudgetFailsAlone) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.stream_budget_bytes = kMiB;
    config.memory_budget_bytes = kMiB;
  });
  ScriptStallAndBig(h.fake);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  auto stream = h.stub->BatchExecute(&context);
  v1::Request stalled = Post("/stall", 700 << 10);
  stalled.set_id("stalled");
  ASSERT_TRUE(stream->Write(stalled));
  ASSERT_TRUE(h.fake.WaitForRequests(1, absl::Seconds(10)));
  v1::Request shed = Post("/projects", 500 << 10);
  shed.set_id("shed");
  ASSERT_TRUE(stream->Write(shed));
  v1::Request small = Get("/projects");
  small.set_id("small");
  ASSERT_TRUE(stream->Write(small));
  v1::Response response;
  std::vector<std::string> order;
  for (int i = 0; i < 2 && stream->Read(&response); ++i) {
    order.push_back(response.id());
    if (response.id() == "shed") {
      EXPECT_EQ(response.error().code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
      EXPECT_THAT(response.error(), HasReason("GATEWAY_OVERLOADED"));
    } else {
      EXPECT_FALSE(response.has_error()) << response.ShortDebugString();
    }
  }
  EXPECT_THAT(order, ::testing::UnorderedElementsAre("shed", "small"));
  EXPECT_EQ(h.fake.request_count(), 2u);
  context.TryCancel();
  while (stream->Read(&response)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(WaitForEmptyBudget(h));
}

}  // namespace
}  // namespace gitlab_gateway::testing
