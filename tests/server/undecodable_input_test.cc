// Caller messages protobuf cannot decode (invalid UTF-8 in a string field,
// broken wire bytes), sent as raw bytes the way a client with a bytes-typed
// twin message or a generic stub can: Execute and Paginate answer
// INVALID_ARGUMENT naming the field, a BatchExecute item fails alone, nothing
// reaches GitLab, and libprotobuf logs nothing per request.
#include <fcntl.h>
#include <grpcpp/impl/codegen/client_unary_call.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/sync_stream.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

constexpr char kMarker[] = "@@BAD@@";
// As long as kMarker: the length prefix of the field stays right.
constexpr char kInvalid[] = "\xff\xfe\xff\xfe\xff\xfe\xff";

// `message` serialized, with every kMarker replaced by invalid UTF-8.
grpc::ByteBuffer Poisoned(const google::protobuf::Message& message) {
  std::string wire = message.SerializeAsString();
  wire = absl::StrReplaceAll(wire, {{kMarker, kInvalid}});
  grpc::Slice slice(wire);
  return grpc::ByteBuffer(&slice, 1);
}

grpc::ByteBuffer Serialized(const google::protobuf::Message& message) {
  std::string wire = message.SerializeAsString();
  grpc::Slice slice(wire);
  return grpc::ByteBuffer(&slice, 1);
}

template <typename T>
T Parse(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string wire;
  for (const grpc::Slice& s : slices) {
    wire.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  T message;
  EXPECT_TRUE(message.ParseFromString(wire));
  return message;
}

constexpr char kExecute[] = "/gitlab.gateway.v1.Gateway/Execute";
constexpr char kBatch[] = "/gitlab.gateway.v1.Gateway/BatchExecute";
constexpr char kPaginate[] = "/gitlab.gateway.v1.Gateway/Paginate";

grpc::Status RawUnary(GatewayHarness& h, const char* method,
                      const grpc::ByteBuffer& request,
                      grpc::ByteBuffer* response) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      h.channel.get(),
      grpc::internal::RpcMethod(method, grpc::internal::RpcMethod::NORMAL_RPC),
      &context, request, response);
}

// Counts "libprotobuf" lines written to stderr (fd 2) while alive.
class StderrCapture {
 public:
  StderrCapture() {
    fflush(stderr);
    saved_ = dup(2);
    char name[] = "/tmp/gg-stderr-XXXXXX";
    fd_ = mkstemp(name);
    unlink(name);
    dup2(fd_, 2);
  }
  ~StderrCapture() { Restore(); }
  std::string Restore() {
    if (saved_ < 0) return text_;
    fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
    lseek(fd_, 0, SEEK_SET);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd_, buf, sizeof(buf))) > 0) text_.append(buf, n);
    close(fd_);
    return text_;
  }

 private:
  int saved_ = -1;
  int fd_ = -1;
  std::string text_;
};

TEST(UndecodableInputTest, ExecuteAnswersInvalidArgumentNamingTheField) {
  GatewayHarness h;
  v1::Request request = Get(absl::StrCat("/projects/", kMarker));
  request.set_id("call-1");
  grpc::ByteBuffer response;
  grpc::Status status = RawUnary(h, kExecute, Poisoned(request), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("path"));
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("UTF-8"));
  google::rpc::Status rpc = RpcStatus(status);
  EXPECT_EQ(ViolatedField(rpc), "path");
  EXPECT_THAT(rpc, HasReason("INVALID_UTF8"));
  EXPECT_EQ(h.fake.request_count(), 0u);
}

TEST(UndecodableInputTest, NestedFieldsAreNamedWithTheirIndex) {
  GatewayHarness h;
  v1::Request request = Get("/projects");
  request.add_headers()->set_name("X-One");
  request.mutable_headers(0)->set_value("fine");
  request.add_headers()->set_name("X-Two");
  request.mutable_headers(1)->set_value(kMarker);
  grpc::ByteBuffer response;
  grpc::Status status = RawUnary(h, kExecute, Poisoned(request), &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolatedField(RpcStatus(status)), "headers[1].value");
  EXPECT_EQ(h.fake.request_count(), 0u);
}

TEST(UndecodableInputTest, BrokenWireBytesAreInvalidArgument) {
  GatewayHarness h;
  std::string wire = Get("/projects").SerializeAsString();
  wire.push_back('\x1a');  // field 3 (path), length-delimited, no length
  grpc::Slice slice(wire);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::Status status = RawUnary(h, kExecute, request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status, HasReason("INVALID_REQUEST"));
  EXPECT_EQ(h.fake.request_count(), 0u);
}

TEST(UndecodableInputTest, ManyBadRequestsLogNothing) {
  GatewayHarness h;
  v1::Request request = Get(absl::StrCat("/projects/", kMarker));
  grpc::ByteBuffer bad = Poisoned(request);
  StderrCapture capture;
  for (int i = 0; i < 50; ++i) {
    grpc::ByteBuffer response;
    grpc::Status status = RawUnary(h, kExecute, bad, &response);
    ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  std::string logged = capture.Restore();
  EXPECT_FALSE(absl::StrContains(logged, "libprotobuf")) << logged;
}

TEST(UndecodableInputTest, PaginateAnswersInvalidArgumentNamingTheField) {
  GatewayHarness h;
  v1::PaginateRequest request;
  *request.mutable_request() = Get(absl::StrCat("/projects/", kMarker));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::ByteBuffer wire = Poisoned(request);
  std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
          h.channel.get(),
          grpc::internal::RpcMethod(
              kPaginate, grpc::internal::RpcMethod::SERVER_STREAMING),
          &context, wire));
  grpc::ByteBuffer page;
  EXPECT_FALSE(reader->Read(&page));
  grpc::Status status = reader->Finish();
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_EQ(ViolatedField(RpcStatus(status)), "request.path");
  EXPECT_EQ(h.fake.request_count(), 0u);
}

// Sends `items` on one BatchExecute stream, then half-closes; returns every
// answer and the stream's status.
std::vector<v1::Response> RawBatch(GatewayHarness& h,
                                   const std::vector<grpc::ByteBuffer>& items,
                                   grpc::Status* status) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>>
      stream(grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer,
                                                       grpc::ByteBuffer>::
                 Create(h.channel.get(),
                        grpc::internal::RpcMethod(
                            kBatch, grpc::internal::RpcMethod::BIDI_STREAMING),
                        &context));
  for (const grpc::ByteBuffer& item : items) {
    if (!stream->Write(item)) break;
  }
  stream->WritesDone();
  std::vector<v1::Response> answers;
  grpc::ByteBuffer answer;
  while (stream->Read(&answer)) answers.push_back(Parse<v1::Response>(answer));
  *status = stream->Finish();
  return answers;
}

TEST(UndecodableInputTest, BadBatchItemFailsAloneAndTheRestAreServed) {
  GatewayHarness h;
  std::vector<grpc::ByteBuffer> items;
  for (int i = 0; i < 6; ++i) {
    v1::Request request =
        Get(i == 2 ? absl::StrCat("/bad/", kMarker) : absl::StrCat("/ok/", i));
    request.set_id(absl::StrCat("item-", i));
    items.push_back(Poisoned(request));
  }
  grpc::Status status;
  std::vector<v1::Response> answers = RawBatch(h, items, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answers.size(), 6u);
  int failed = 0;
  for (const v1::Response& answer : answers) {
    if (answer.id() == "item-2") {
      ++failed;
      EXPECT_EQ(answer.error().code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_EQ(ViolatedField(answer.error()), "path");
      EXPECT_THAT(answer.error(), HasReason("INVALID_UTF8"));
    } else {
      EXPECT_EQ(answer.error().code(), 0) << answer.ShortDebugString();
      EXPECT_EQ(answer.status_code(), 200);
    }
  }
  EXPECT_EQ(failed, 1);
  ASSERT_EQ(h.fake.request_count(), 5u);
  for (const RecordedRequest& seen : h.fake.requests()) {
    EXPECT_FALSE(absl::StartsWith(seen.path, "/api/v4/bad")) << seen.path;
  }
}

TEST(UndecodableInputTest, BadItemWithoutAReadableIdGetsItsPosition) {
  GatewayHarness h;
  std::vector<grpc::ByteBuffer> items;
  items.push_back(Serialized(Get("/ok")));
  v1::Request bad = Get("/ok");
  bad.set_id(kMarker);
  items.push_back(Poisoned(bad));
  items.push_back(Serialized(Get("/ok")));
  grpc::Status status;
  std::vector<v1::Response> answers = RawBatch(h, items, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answers.size(), 3u);
  std::vector<std::string> failed;
  for (const v1::Response& answer : answers) {
    if (answer.has_error()) {
      failed.push_back(answer.id());
      EXPECT_EQ(ViolatedField(answer.error()), "id");
    }
  }
  EXPECT_THAT(failed, ::testing::ElementsAre("1"));
  EXPECT_EQ(h.fake.request_count(), 2u);
}

}  // namespace
}  // namespace gitlab_gateway::testing
