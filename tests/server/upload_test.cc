// Upload: the body streams from the caller to GitLab with bounded memory and
// arrives byte-identical; bad streams are refused by field.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/server/download_stream.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
const char kPackage[] = "/projects/7/packages/generic/tool/1.0/tool.bin";

v1::Request Put(std::string path) {
  v1::Request request;
  request.set_method("PUT");
  request.set_path(std::move(path));
  return request;
}

struct UploadResult {
  grpc::Status status;
  v1::Response response;
  uint64_t hash = kFnvOffset;
};

// Sends `size` pattern bytes in pieces of `piece` (size announced when
// `announce`); `each` runs after every write.
UploadResult UploadPattern(v1::Gateway::Stub& stub, const v1::Request& request,
                           uint64_t size, bool announce = true,
                           size_t piece = kMiB,
                           const std::function<void()>& each = nullptr) {
  UploadResult result;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  auto writer = stub.Upload(&context, &result.response);
  v1::UploadChunk chunk;
  *chunk.mutable_request() = request;
  if (announce) chunk.set_size(static_cast<int64_t>(size));
  bool open = writer->Write(chunk);
  std::string data;
  for (uint64_t sent = 0; open && sent < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(piece, size - sent));
    data.resize(n);
    FillPattern(sent, data.data(), n);
    result.hash = Fnv1a(data, result.hash);
    v1::UploadChunk next;
    next.set_data(data);
    open = writer->Write(next);
    sent += n;
    if (each) each();
  }
  writer->WritesDone();
  result.status = writer->Finish();
  return result;
}

TEST(UploadTest, QuarterGigabyteArrivesByteIdenticalWithBoundedMemory) {
  GatewayHarness h;
  h.fake.SetMaxStoredBody(kMiB);
  h.fake.Enqueue(Reply::Json(201, R"({"message":"201 Created"})"));
  UploadPattern(*h.stub, Put(kPackage), 4 * kMiB);  // warm up
  h.fake.Enqueue(Reply::Json(201, R"({"message":"201 Created"})"));
  constexpr uint64_t kSize = 256 * kMiB;
  const size_t before = ResidentBytes();
  size_t peak = before;
  int writes = 0;
  absl::Time start = absl::Now();
  UploadResult result =
      UploadPattern(*h.stub, Put(kPackage), kSize, true, kMiB, [&] {
        if (++writes % 16 == 0) peak = std::max(peak, ResidentBytes());
      });
  absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  EXPECT_EQ(result.response.status_code(), 201);
  ASSERT_EQ(h.fake.request_count(), 2u);
  RecordedRequest received = h.fake.requests()[1];
  EXPECT_EQ(received.method, "PUT");
  EXPECT_EQ(received.path, absl::StrCat("/api/v4", kPackage));
  EXPECT_EQ(received.Header("Content-Length"), absl::StrCat(kSize));
  EXPECT_EQ(received.Header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(received.body_size, kSize);
  EXPECT_EQ(received.body_hash, result.hash);
  peak = std::max(peak, ResidentBytes());
  if (kRssIsMeaningful) {
    EXPECT_LT(peak - before, 24 * kMiB)
        << "RSS before " << before << " peak " << peak;
  }
  std::cout << "256 MiB in " << took << ", RSS +" << (peak - before) / 1024
            << " KiB\n";
}

TEST(UploadTest, BodyBytesInAndOutAreCountedPerRoute) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.metrics_address = "127.0.0.1:0";
  });
  h.fake.Enqueue(Reply::Json(201, R"({"id":1})"));
  ASSERT_TRUE(UploadPattern(*h.stub, Put(kPackage), 3 * kMiB).status.ok());
  Reply download;
  download.pattern_bytes = 2 * kMiB + 1;
  h.fake.Enqueue(download);
  DownloadStream d(*h.stub, Get("/projects/7/jobs/1/artifacts"));
  ASSERT_TRUE(d.ReadAll().ok());
  std::string metrics = h.ScrapeMetrics();
  const std::string package =
      "{route=\"/projects/:id/packages/generic/:id/:id/:id\"}";
  EXPECT_THAT(metrics, ::testing::HasSubstr(absl::StrCat(
                           "gitlab_gateway_upstream_sent_bytes_total", package,
                           " 3145728\n")));
  // The Upload's JSON answer ({"id":1}) counts as received on its route.
  EXPECT_THAT(metrics, ::testing::HasSubstr(absl::StrCat(
                           "gitlab_gateway_upstream_received_bytes_total",
                           package, " 8\n")));
  EXPECT_THAT(metrics,
              ::testing::HasSubstr(
                  "gitlab_gateway_upstream_received_bytes_total{route=\"/"
                  "projects/:id/jobs/:job_id/artifacts\"} 2097153\n"));
}

TEST(UploadTest, UnknownSizeIsSentChunked) {
  GatewayHarness h;
  // The fake refuses chunked request bodies with 411: the gateway sent
  // Transfer-Encoding: chunked, and GitLab's answer comes back mapped.
  UploadResult result =
      UploadPattern(*h.stub, Put(kPackage), 100 * 1024, /*announce=*/false);
  EXPECT_FALSE(result.status.ok());
  EXPECT_EQ(OnlyDetail<v1::GitLabError>(result.status).status_code(), 411);
}

TEST(UploadTest, PostWithSmallPiecesAndACallerContentType) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Json(201, R"({"id":1})"));
  v1::Request request = Put("/projects/7/uploads");
  request.set_method("POST");
  v1::Header* type = request.add_headers();
  type->set_name("Content-Type");
  type->set_value("application/zip");
  UploadResult result =
      UploadPattern(*h.stub, request, 3 * kMiB + 17, true, 4096);
  ASSERT_TRUE(result.status.ok()) << result.status.error_message();
  RecordedRequest received = h.fake.requests()[0];
  EXPECT_EQ(received.method, "POST");
  EXPECT_EQ(received.Header("Content-Type"), "application/zip");
  EXPECT_EQ(received.body_size, 3 * kMiB + 17);
  EXPECT_EQ(received.body_hash, result.hash);
}

TEST(UploadTest, GitLabErrorCarriesTypedDetails) {
  GatewayHarness h;
  h.fake.Enqueue(Reply::Json(403, R"({"message":"403 Forbidden"})"));
  UploadResult result = UploadPattern(*h.stub, Put(kPackage), 64 * 1024);
  EXPECT_EQ(result.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(OnlyDetail<v1::GitLabError>(result.status).status_code(), 403);
}

TEST(UploadTest, BadStreamsAreRefusedByField) {
  GatewayHarness h([](server::GatewayConfig& config) {
    config.max_upload_bytes = 2 * kMiB;
  });
  v1::Request get = Put(kPackage);
  get.set_method("GET");
  EXPECT_EQ(ViolatedField(RpcStatus(UploadPattern(*h.stub, get, 10).status)),
            "request.method");
  v1::Request with_body = Put(kPackage);
  with_body.set_text("inline");
  EXPECT_EQ(
      ViolatedField(RpcStatus(UploadPattern(*h.stub, with_body, 10).status)),
      "request.body");
  // Over the limit, announced or not.
  EXPECT_EQ(ViolatedField(RpcStatus(
                UploadPattern(*h.stub, Put(kPackage), 3 * kMiB).status)),
            "size");
  EXPECT_EQ(h.fake.request_count(), 0u);
  // More bytes than announced (GitLab never sees a complete request).
  {
    h.fake.Enqueue(Reply::Json(201, R"({"id":1})"));
    grpc::ClientContext context;
    v1::Response response;
    auto writer = h.stub->Upload(&context, &response);
    v1::UploadChunk first;
    *first.mutable_request() = Put(kPackage);
    first.set_size(1000);
    writer->Write(first);
    v1::UploadChunk data;
    data.set_data(std::string(1001, 'x'));
    writer->Write(data);
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(ViolatedField(RpcStatus(status)), "data");
  }
  // Fewer bytes than announced.
  {
    grpc::ClientContext context;
    v1::Response response;
    auto writer = h.stub->Upload(&context, &response);
    v1::UploadChunk first;
    *first.mutable_request() = Put(kPackage);
    first.set_size(1000);
    first.set_data(std::string(10, 'x'));
    writer->Write(first);
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(ViolatedField(RpcStatus(status)), "size");
  }
  // No request at all.
  {
    grpc::ClientContext context;
    v1::Response response;
    auto writer = h.stub->Upload(&context, &response);
    writer->WritesDone();
    grpc::Status status = writer->Finish();
    EXPECT_EQ(ViolatedField(RpcStatus(status)), "request");
  }
}

}  // namespace
}  // namespace gitlab_gateway::testing
