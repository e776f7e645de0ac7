// Download: the body streams from GitLab to the caller with bounded memory,
// pauses for slow readers, stops on cancel, and fails loudly.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "service/server/download_reactor.h"
#include "tests/server/download_stream.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

Reply PatternReply(uint64_t size, uint64_t offset = 0) {
  Reply reply;
  reply.headers = {{"Content-Type", "application/octet-stream"},
                   {"X-Page", "1"},
                   {"RateLimit-Remaining", "99"}};
  reply.pattern_bytes = size;
  reply.pattern_offset = offset;
  return reply;
}

const char kArtifact[] = "/projects/7/jobs/1/artifacts";

TEST(DownloadTest, StreamsHalfAGigabyteWithBoundedMemory) {
  GatewayHarness h;
  // Warm up the channel, the engine and the allocator's arenas first.
  h.fake.Enqueue(PatternReply(8 * kMiB));
  {
    DownloadStream warm(*h.stub, Get(kArtifact));
    ASSERT_TRUE(warm.ReadAll().ok());
  }
  // The client shares this process: keep its HTTP/2 receive window at the
  // default instead of letting BDP probing grow it on loopback, so that
  // the RSS measured is the gateway's (and the fake's), not the reader's.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  auto stub = v1::Gateway::NewStub(
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", h.server->port()),
                                grpc::InsecureChannelCredentials(), args));
  {
    h.fake.Enqueue(PatternReply(8 * kMiB));
    DownloadStream warm(*stub, Get(kArtifact));
    ASSERT_TRUE(warm.ReadAll().ok());
  }
  const size_t before = ResidentBytes();
  size_t peak = before;
  constexpr uint64_t kSize = 512 * kMiB;
  h.fake.Enqueue(PatternReply(kSize));
  absl::Time start = absl::Now();
  DownloadStream d(*stub, Get(kArtifact));
  grpc::Status status = d.ReadAll([&] {
    if (d.messages % 16 == 0) peak = std::max(peak, ResidentBytes());
  });
  absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(d.bytes, kSize);
  EXPECT_EQ(d.mismatches, 0);
  EXPECT_EQ(d.heads, 1);
  EXPECT_EQ(d.misplaced_heads, 0);
  EXPECT_LE(d.largest, kMiB);
  EXPECT_EQ(d.head.status_code(), 200);
  EXPECT_EQ(d.head.page().page(), 1);
  EXPECT_EQ(d.head.rate_limit().remaining(), 99);
  EXPECT_FALSE(d.head.has_text() || d.head.has_content());
  peak = std::max(peak, ResidentBytes());
  if (kRssIsMeaningful) {
    EXPECT_LT(peak - before, 16 * kMiB)
        << "RSS before " << before << " peak " << peak;
  }
  std::cout << "512 MiB in " << took << ", RSS +" << (peak - before) / 1024
            << " KiB\n";
}

TEST(DownloadTest, SlowReaderPausesTheUpstreamTransfer) {
  GatewayHarness h;
  constexpr uint64_t kSize = 256 * kMiB;
  h.fake.Enqueue(PatternReply(kSize));
  const uint64_t pauses_before = server::DownloadReactor::TotalPauses();
  DownloadStream d(*h.stub, Get(kArtifact));
  ASSERT_TRUE(d.Next());  // the head; then the reader stalls
  // The gateway's buffer fills and the transfer pauses: a signal, awaited.
  absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (server::DownloadReactor::TotalPauses() == pauses_before &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_GT(server::DownloadReactor::TotalPauses(), pauses_before);
  // Paused: GitLab has sent a few buffers' worth, not the body.
  EXPECT_LT(h.fake.bytes_sent(), 64 * kMiB);
  // Reading again resumes it to the last byte.
  grpc::Status status = d.ReadAll();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(d.bytes, kSize);
  EXPECT_EQ(d.mismatches, 0);
  EXPECT_GT(server::DownloadReactor::TotalPauses(), pauses_before);
}

TEST(DownloadTest, CancellingMidStreamStopsTheTransferAndItsConnection) {
  GatewayHarness h;
  h.fake.Enqueue(PatternReply(256 * kMiB));
  DownloadStream d(*h.stub, Get(kArtifact));
  ASSERT_TRUE(d.Next());
  ASSERT_TRUE(d.Next());
  d.context.TryCancel();
  while (d.Next()) {
  }
  EXPECT_EQ(d.reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The gateway closes the upstream connection: GitLab sees the close.
  EXPECT_TRUE(h.fake.WaitForClosedByClient(1, absl::Seconds(10)));
  h.WaitForNoTransfersInFlight(absl::Seconds(10));
  EXPECT_EQ(h.server->engine().load().in_flight, 0u);
  EXPECT_LT(h.fake.bytes_sent(), 128 * kMiB);
}

TEST(DownloadTest, UpstreamClosingMidBodyIsAnErrorNotATruncatedSuccess) {
  GatewayHarness h;
  Reply reply = PatternReply(8 * kMiB);
  reply.action = Reply::Action::kTruncate;  // promises one byte more
  h.fake.Enqueue(reply);
  DownloadStream d(*h.stub, Get(kArtifact));
  grpc::Status status = d.ReadAll();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_LE(d.bytes, 8 * kMiB);
  EXPECT_EQ(d.mismatches, 0);
}

TEST(DownloadTest, NoRetryOnceTheBodyStartedButBeforeIt) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.upstream.retry.max_attempts = 3;
    config.upstream.retry.base = absl::Milliseconds(1);
  });
  // A 503 before the body: retried, and the stream is whole.
  h.fake.Enqueue(Reply::Json(503, R"({"message":"busy"})"));
  h.fake.Enqueue(PatternReply(3 * kMiB));
  {
    DownloadStream d(*h.stub, Get(kArtifact));
    grpc::Status status = d.ReadAll();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(d.bytes, 3 * kMiB);
    EXPECT_EQ(d.head.attempts(), 2);
    EXPECT_EQ(h.fake.request_count(), 2u);
  }
  // A failure after the body started: not retried.
  Reply cut = PatternReply(3 * kMiB);
  cut.action = Reply::Action::kTruncate;
  h.fake.Enqueue(cut);
  h.fake.Enqueue(PatternReply(3 * kMiB));
  DownloadStream d(*h.stub, Get(kArtifact));
  EXPECT_FALSE(d.ReadAll().ok());
  EXPECT_EQ(h.fake.request_count(), 3u);
}

TEST(DownloadTest, RangeRequestResumesFromTheOffset) {
  GatewayHarness h;
  static constexpr uint64_t kSize = 5 * kMiB;
  h.fake.SetHandler([](const RecordedRequest& request) {
    uint64_t from = 0;
    std::optional<std::string> range = request.Header("Range");
    if (range.has_value() && absl::StartsWith(*range, "bytes=")) {
      std::string spec = range->substr(6, range->find('-') - 6);
      if (!absl::SimpleAtoi(spec, &from)) from = 0;
    }
    Reply reply = PatternReply(kSize - from, from);
    if (from > 0) {
      reply.status = 206;
      reply.headers.emplace_back(
          "Content-Range",
          absl::StrCat("bytes ", from, "-", kSize - 1, "/", kSize));
    }
    return reply;
  });
  // The first attempt stops after two body messages...
  uint64_t got = 0;
  {
    DownloadStream first(*h.stub, Get(kArtifact));
    while (first.Next() && first.bytes < 2 * kMiB) {
    }
    got = first.bytes;
    first.context.TryCancel();
    while (first.Next()) {
    }
    first.reader->Finish();
  }
  ASSERT_GT(got, 0u);
  // ...and the second asks for the rest.
  v1::Request request = Get(kArtifact);
  v1::Header* range = request.add_headers();
  range->set_name("Range");
  range->set_value(absl::StrCat("bytes=", got, "-"));
  DownloadStream rest(*h.stub, request);
  rest.pattern_offset = got;
  grpc::Status status = rest.ReadAll();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(rest.head.status_code(), 206);
  EXPECT_EQ(got + rest.bytes, kSize);
  EXPECT_EQ(rest.mismatches, 0);
  EXPECT_EQ(h.fake.requests().back().Header("Range"),
            absl::StrCat("bytes=", got, "-"));
}

TEST(DownloadTest, GitLabErrorCarriesTheSameTypedDetailsAsExecute) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Json(404, R"({"message":"404 Project Not Found"})"));
  DownloadStream d(*h.stub, Get("/projects/group%2Fdemo/repository/archive"));
  grpc::Status status = d.ReadAll();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(d.messages, 0);
  EXPECT_EQ(Reason(RpcStatus(status)), "GITLAB_NOT_FOUND");
  auto gitlab_error = OnlyDetail<v1::GitLabError>(status);
  EXPECT_EQ(gitlab_error.status_code(), 404);
  EXPECT_EQ(gitlab_error.message(), "404 Project Not Found");
}

TEST(DownloadTest, EmptyBodySendsTheHeadAndEnds) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Text(200, ""));
  DownloadStream d(*h.stub, Get(kArtifact));
  grpc::Status status = d.ReadAll();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(d.heads, 1);
  EXPECT_EQ(d.bytes, 0u);
  EXPECT_EQ(d.head.attempts(), 1);
}

TEST(DownloadTest, BodyOverMaxDownloadFails) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.max_download_bytes = 2 * kMiB;
  });
  h.fake.Enqueue(PatternReply(3 * kMiB));
  DownloadStream d(*h.stub, Get(kArtifact));
  grpc::Status status = d.ReadAll();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status, HasReason("RESPONSE_TOO_LARGE"));
  EXPECT_LE(d.bytes, 2 * kMiB);
}

TEST(DownloadTest, OnlyGetIsAccepted) {
  GatewayHarness h;
  v1::Request request = Get(kArtifact);
  request.set_method("POST");
  DownloadStream d(*h.stub, request);
  grpc::Status status = d.ReadAll();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(RpcStatus(status)), "method");
  EXPECT_EQ(h.fake.request_count(), 0u);
}

}  // namespace
}  // namespace gitlab_gateway::testing
