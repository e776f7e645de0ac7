// gitlab-gateway-cli download, upload and get through the streaming calls,
// in process (cli::Run) against a real gateway in front of the fake GitLab.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/cli/commands.h"
#include "client/cli/progress_line.h"
#include "gitlab_gateway/client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr uint64_t kMiB = uint64_t{1} << 20;

std::string Pattern(uint64_t size) {
  std::string bytes(size, '\0');
  FillPattern(0, bytes.data(), bytes.size());
  return bytes;
}

std::string TempPath(absl::string_view name) {
  const char* dir = std::getenv("TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/gg_cli_", getpid(), "_",
                      name);
}

class CliTransferTest : public ::testing::Test {
 protected:
  int Run(std::vector<std::string> args, bool progress = false,
          std::string input = "") {
    args.push_back("--target");
    args.push_back(absl::StrCat("127.0.0.1:", harness_.server->port()));
    in_.str(std::move(input));
    out_.str("");
    err_.str("");
    return cli::Run(
        args, [](const char*) -> const char* { return nullptr; },
        cli::Io{in_, out_, err_, progress});
  }

  GatewayHarness harness_;
  std::istringstream in_;
  std::ostringstream out_, err_;
};

TEST_F(CliTransferTest, DownloadWritesTheBodyToTheFileWithProgress) {
  Reply reply;
  reply.headers = {{"Content-Type", "application/zip"}};
  reply.pattern_bytes = 5 * kMiB + 3;
  harness_.fake.Enqueue(reply);
  const std::string path = TempPath("artifacts.zip");
  ASSERT_EQ(Run({"download", "/projects/7/jobs/1/artifacts", "-o", path},
                /*progress=*/true),
            cli::kExitOk)
      << err_.str();
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  std::remove(path.c_str());
  EXPECT_TRUE(content.str() == Pattern(5 * kMiB + 3));
  EXPECT_EQ(out_.str(), "");
  EXPECT_THAT(err_.str(), StartsWith("\rdownload  "));
  EXPECT_THAT(err_.str(), HasSubstr("100% [####################]"));
  EXPECT_THAT(err_.str(), EndsWith("\n"));
}

TEST_F(CliTransferTest, QuietWithoutATerminalAndErrorsAreDecoded) {
  harness_.fake.Enqueue(Reply::Json(404, R"({"message":"404 Not Found"})"));
  EXPECT_EQ(Run({"download", "/projects/7/jobs/1/artifacts"}),
            cli::kExitFailed);
  EXPECT_THAT(err_.str(), StartsWith("error: NOT_FOUND"));
  EXPECT_THAT(err_.str(), Not(HasSubstr("\r")));
}

TEST_F(CliTransferTest, UploadSendsTheFileByteIdentical) {
  const std::string path = TempPath("tool.bin");
  const std::string body = Pattern(3 * kMiB + 5);
  std::ofstream(path, std::ios::binary) << body;
  harness_.fake.Enqueue(Reply::Json(201, R"({"message":"201 Created"})"));
  int code = Run(
      {"upload", "/projects/7/packages/generic/tool/1.0/tool.bin", "-i", path},
      /*progress=*/true);
  std::remove(path.c_str());
  ASSERT_EQ(code, cli::kExitOk) << err_.str();
  RecordedRequest received = harness_.fake.requests().back();
  EXPECT_EQ(received.method, "PUT");
  EXPECT_EQ(received.Header("Content-Length"), absl::StrCat(body.size()));
  EXPECT_EQ(received.body_hash, Fnv1a(body));
  EXPECT_THAT(out_.str(), HasSubstr("201 Created"));
  EXPECT_THAT(err_.str(), HasSubstr("100% [####################]"));
}

TEST_F(CliTransferTest, UploadFromStdinWithPostIsChunked) {
  // The fake refuses chunked bodies with 411: what the gateway sent shows.
  EXPECT_EQ(Run({"upload", "/projects/7/uploads", "--post", "-i", "-"}, false,
                "hello"),
            cli::kExitFailed);
  EXPECT_THAT(err_.str(), HasSubstr("411"));
  EXPECT_EQ(Run({"upload", "/projects/7/uploads"}), cli::kExitUsage);
  EXPECT_THAT(err_.str(), HasSubstr("-i: upload needs the file"));
}

TEST_F(CliTransferTest, GetStreamsABinaryBodyAsReceived) {
  Reply reply;
  reply.headers = {{"Content-Type", "application/octet-stream"}};
  reply.pattern_bytes = 6 * kMiB;  // over gRPC's default 4 MiB message
  harness_.fake.Enqueue(reply);
  ASSERT_EQ(Run({"get", "/projects/7/repository/archive"}), cli::kExitOk)
      << err_.str();
  EXPECT_TRUE(out_.str() == Pattern(6 * kMiB));
}

TEST_F(CliTransferTest, ClientLibraryReceivesExecuteAnswersOverFourMiB) {
  // gRPC's default receive limit is 4 MiB; Client::Insecure raises it to
  // the gateway's default --max_response_mb.
  harness_.fake.Enqueue(Reply::Text(200, std::string(5 * kMiB, 'x')));
  client::Client client = client::Client::Insecure(
      absl::StrCat("127.0.0.1:", harness_.server->port()));
  v1::Request request;
  request.set_path("/projects/7/repository/files/big/raw");
  absl::StatusOr<v1::Response> response = client.Execute(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->text().size(), 5 * kMiB);
}

TEST(ProgressLineTest, FormatsBytesRateAndPercentWhenKnown) {
  EXPECT_EQ(cli::ProgressLine::Format("download", 3 * kMiB, 12 * kMiB,
                                      absl::Seconds(2)),
            "download  3.0 MiB  1.5 MiB/s  25% [#####...............]");
  EXPECT_EQ(
      cli::ProgressLine::Format("upload", 512, std::nullopt, absl::Seconds(1)),
      "upload  512 B  512 B/s");
}

}  // namespace
}  // namespace gitlab_gateway::testing
