// BatchExecute end to end: exactly one Response per Request, error parity
// with Execute, fan-out, the per-stream window, cancel, and fairness.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "service/gitlab/status_mapping.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

v1::Request GetWithId(std::string path, std::string id) {
  v1::Request request = Get(std::move(path));
  request.set_id(std::move(id));
  return request;
}

// Writes every request (then half-closes) on one thread while reading every
// response on this one; returns the responses and the final status.
std::vector<v1::Response> RunBatch(GatewayHarness& h,
                                   const std::vector<v1::Request>& requests,
                                   grpc::Status* status,
                                   absl::Duration deadline = absl::Seconds(60)) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  auto stream = h.stub->BatchExecute(&context);
  std::thread writer([&] {
    for (const v1::Request& r : requests) {
      if (!stream->Write(r)) break;
    }
    stream->WritesDone();
  });
  std::vector<v1::Response> responses;
  v1::Response response;
  while (stream->Read(&response)) responses.push_back(response);
  writer.join();
  *status = stream->Finish();
  return responses;
}

// Scripts the fake by path: /ok, /missing, /limited, /broken, /stall.
void ScriptByPath(FakeGitLab& fake) {
  fake.SetHandler([](const RecordedRequest& r) {
    if (absl::StartsWith(r.path, "/api/v4/missing")) {
      return Reply::Json(404, R"({"message":"404 Project Not Found"})");
    }
    if (absl::StartsWith(r.path, "/api/v4/limited")) {
      return Reply::Text(429, "Retry later").WithHeader("Retry-After", "1");
    }
    if (absl::StartsWith(r.path, "/api/v4/broken")) {
      return Reply::Json(500, R"({"message":"500 Internal Server Error"})");
    }
    if (absl::StartsWith(r.path, "/api/v4/stall")) {
      return Reply::Do(Reply::Action::kStall);
    }
    return Reply::Json(200, R"({"ok":true})");
  });
}

TEST(BatchExecuteTest, TenThousandMixedItemsEachAnsweredOnceLikeExecute) {
  GatewayHarness h;
  ScriptByPath(h.fake);
  const char* kPaths[] = {"/ok", "/missing", "/limited", "/broken", "bad",
                          "/stall"};
  constexpr int kItems = 10000;
  std::vector<v1::Request> requests;
  for (int i = 0; i < kItems; ++i) {
    v1::Request r = Get(kPaths[i % 6]);
    // Half the ids are left empty: they become the stream position.
    if (i % 2 == 0) r.set_id(absl::StrCat("item-", i));
    if (i % 6 == 5) r.mutable_timeout()->set_nanos(100'000'000);
    // A 429 pauses its credential: give those items their own.
    if (i % 6 == 2) r.mutable_credentials()->set_private_token("limited");
    requests.push_back(std::move(r));
  }
  grpc::Status status;
  // ~9 s in Release, ~17 s under ASan; ctest allows 300 s.
  std::vector<v1::Response> responses =
      RunBatch(h, requests, &status, absl::Seconds(240));
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(responses.size(), static_cast<size_t>(kItems));

  // What Execute returns for each kind, to compare codes and reasons.
  absl::flat_hash_map<std::string, grpc::Status> execute;
  for (int kind = 0; kind < 6; ++kind) {
    v1::Response ignored;
    execute[kPaths[kind]] = h.Execute(requests[kind], &ignored);
  }
  absl::flat_hash_map<std::string, int> seen;
  for (const v1::Response& response : responses) {
    ++seen[response.id()];
    int index;
    if (absl::StartsWith(response.id(), "item-")) {
      ASSERT_TRUE(absl::SimpleAtoi(response.id().substr(5), &index));
      ASSERT_EQ(index % 2, 0);
    } else {
      ASSERT_TRUE(absl::SimpleAtoi(response.id(), &index)) << response.id();
      ASSERT_EQ(index % 2, 1);
    }
    const grpc::Status& expected = execute[kPaths[index % 6]];
    EXPECT_EQ(response.error().code(), expected.error_code())
        << "item " << index << ": " << response.ShortDebugString();
    if (!expected.ok()) {
      google::rpc::Status rpc = RpcStatus(expected);
      auto want = Details<google::rpc::ErrorInfo>(rpc);
      auto got = Details<google::rpc::ErrorInfo>(response.error());
      ASSERT_EQ(got.size(), 1u) << "item " << index;
      if (index % 6 == 5) {
        // A timeout is upstream's or the queue's, depending on when it hit.
        EXPECT_THAT(got[0].reason(), ::testing::AnyOf("UPSTREAM_TIMEOUT",
                                                      "QUEUE_TIMEOUT"));
      } else if (index % 6 == 2) {
        // GitLab's 429, or the gateway's own while the credential pauses.
        EXPECT_THAT(got[0].reason(), ::testing::AnyOf("GITLAB_RATE_LIMITED",
                                                      "GATEWAY_RATE_LIMITED"));
        EXPECT_EQ(Details<google::rpc::RetryInfo>(response.error()).size(), 1u);
      } else {
        EXPECT_EQ(got[0].reason(), want.at(0).reason());
      }
      if (index % 6 != 2) {
        EXPECT_EQ(response.error().details_size(), rpc.details_size());
      }
    }
    if (index % 6 == 1) {
      EXPECT_EQ(response.status_code(), 404);
    }
    if (index % 6 == 0) {
      EXPECT_EQ(response.text(), R"({"ok":true})");
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kItems));
  for (const auto& [id, count] : seen) ASSERT_EQ(count, 1) << id;
}

TEST(BatchExecuteTest, FansOutAcrossTheEngine) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.engine.max_in_flight = 100;
  });
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(200, "{}").WithDelay(absl::Milliseconds(100));
  });
  std::vector<v1::Request> requests(500, Get("/projects"));
  absl::Time start = absl::Now();
  grpc::Status status;
  std::vector<v1::Response> responses = RunBatch(h, requests, &status);
  absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(responses.size(), 500u);
  // Serially this is 50 s; the ideal at concurrency 100 is 0.5 s. The exact
  // ratio is a benchmark (bench/: 2,000 items, 20 ms); here only a generous
  // bound, with a delay long enough for a slow (ASan) gateway to fill 100.
  EXPECT_LT(took, absl::Seconds(8));
  EXPECT_GE(h.fake.max_in_progress(), 50);
}

TEST(BatchExecuteTest, CallerThatNeverReadsHoldsTheWindowNotMemory) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.batch_window = 64;
  });
  // 4 KiB answers: gRPC's flow-control buffers (a few MiB once its BDP
  // probing grew them) then hold ~1,000 unread responses, not ~40,000.
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(200, absl::StrCat("\"", std::string(4096, 'a'), "\""));
  });
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = h.stub->BatchExecute(&context);
  std::atomic<int> written{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    v1::Request r = Get("/projects");
    r.set_text(std::string(512, 'x'));  // large enough to fill flow control
    r.set_method("POST");
    for (int i = 0; i < 100000 && !stop.load(); ++i) {
      if (!stream->Write(r)) break;
      written.fetch_add(1);
    }
  });
  // Wait until both the caller's writes and the upstream calls stop moving
  // for a whole second: backpressure reached the caller.
  int last_written = -1;
  size_t last_upstream = 0;
  absl::Time give_up = absl::Now() + absl::Seconds(40);
  while (absl::Now() < give_up) {
    absl::SleepFor(absl::Seconds(1));
    int written_now = written.load();
    size_t upstream_now = h.fake.request_count();
    if (written_now == last_written && upstream_now == last_upstream) break;
    last_written = written_now;
    last_upstream = upstream_now;
  }
  EXPECT_LT(written.load(), 100000) << "the gateway read without bound";
  engine::EngineLoad load = h.server->engine().load();
  EXPECT_LE(load.in_flight + load.queued, 64u);
  // What was dispatched is bounded by the window plus the responses that fit
  // in gRPC's flow-control buffers, far below what the caller offered.
  EXPECT_LT(h.fake.request_count(), 10000u);
  EXPECT_EQ(h.fake.request_count(), last_upstream) << "dispatch did not pause";
  stop.store(true);
  context.TryCancel();
  writer.join();
  stream->Finish();
}

TEST(BatchExecuteTest, CancelMidStreamClosesUpstreamAndStopsWriting) {
  GatewayHarness h;
  h.fake.SetHandler([](const RecordedRequest& r) {
    if (absl::StartsWith(r.path, "/api/v4/fast")) return Reply::Json(200, "{}");
    return Reply::Do(Reply::Action::kStall);
  });
  grpc::ClientContext context;
  auto stream = h.stub->BatchExecute(&context);
  ASSERT_TRUE(stream->Write(GetWithId("/fast", "fast")));
  v1::Response response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.id(), "fast");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(stream->Write(Get("/stall")));
  ASSERT_TRUE(h.fake.WaitForRequests(21, absl::Seconds(5)));
  context.TryCancel();
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(h.fake.WaitForClosedByClient(20, absl::Seconds(5)));
  h.WaitForNoTransfersInFlight(absl::Seconds(2));
  EXPECT_EQ(h.server->engine().load().in_flight, 0u);
}

TEST(BatchExecuteTest, ExecuteStaysPromptDuringAHugeBatch) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.engine.max_in_flight = 16;
  });
  h.fake.SetHandler([](const RecordedRequest&) {
    return Reply::Json(200, "{}").WithDelay(absl::Milliseconds(100));
  });
  std::vector<v1::Request> requests(800, Get("/projects"));
  grpc::Status batch_status;
  std::vector<v1::Response> batch;
  std::thread runner([&] { batch = RunBatch(h, requests, &batch_status); });
  // Let the batch fill its window (256: 16 in flight, 240 queued). Not
  // ASSERT: the runner thread must be joined whatever happens.
  EXPECT_TRUE(h.fake.WaitForRequests(50, absl::Seconds(20)));
  v1::Response response;
  absl::Time start = absl::Now();
  grpc::Status status = h.Execute(Get("/version"), &response);
  absl::Duration took = absl::Now() - start;
  runner.join();
  EXPECT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(batch_status.ok());
  EXPECT_EQ(batch.size(), 800u);
  // Behind the batch's 240 queued items a unary call would wait
  // 240 / 16 x 100 ms = 1.5 s; fair queueing serves it at the next free
  // slot (~100 ms plus its own 100 ms).
  EXPECT_LT(took, absl::Milliseconds(900));
}

TEST(BatchExecuteTest, EmptyStreamFinishesOk) {
  GatewayHarness h;
  grpc::Status status;
  EXPECT_TRUE(RunBatch(h, {}, &status).empty());
  EXPECT_TRUE(status.ok());
}

}  // namespace
}  // namespace gitlab_gateway::testing
