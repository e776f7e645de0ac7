// Fuzzes GitLab error-body parsing and the mapping of GitLab answers to gRPC
// statuses (gitlab/error_body, gitlab/status_mapping: MapGitLabAnswer for
// error statuses, MapGraphqlErrors for 2xx) with an HTTP-like answer:
//
//   422                             first line: the HTTP status
//   Content-Type: application/json  header lines, then an empty line
//   :path /projects/7/issues        (pseudo-header: the request path)
//
//   {"message":{"title":["can't be blank"]}}   the rest: the body
//
// Invariants: the parsed message is single-line UTF-8 within its documented
// size; every error status has well-formed details (one ErrorInfo, one
// GitLabError, UTF-8 everywhere) and stays within kMaxErrorTrailerBytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "service/gitlab/error_body.h"
#include "service/gitlab/response_headers.h"
#include "service/gitlab/status_mapping.h"
#include "tests/fuzz/fuzz_support.h"

namespace gitlab_gateway::fuzz {
namespace {

namespace v1 = ::gitlab::gateway::v1;

struct Answer {
  int status = 404;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string path = "/projects/42";
  absl::string_view body;
};

Answer Parse(absl::string_view data) {
  Answer a;
  size_t eol = data.find('\n');
  (void)absl::SimpleAtoi(data.substr(0, eol), &a.status);
  while (eol != absl::string_view::npos) {
    data.remove_prefix(eol + 1);
    eol = data.find('\n');
    absl::string_view line = data.substr(0, eol);
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    if (line.empty()) {
      data.remove_prefix(eol == absl::string_view::npos ? data.size()
                                                        : eol + 1);
      a.body = data;
      return a;
    }
    auto header = SplitHeader(line);
    if (header.first == ":path") {
      a.path = std::move(header.second);
    } else {
      a.headers.push_back(std::move(header));
    }
  }
  return a;
}

void CheckErrorBody(const gitlab::ErrorBody& body) {
  GG_FUZZ_CHECK(body.message.size() <= gitlab::kMaxErrorMessageBytes,
                body.message);
  GG_FUZZ_CHECK(IsUtf8(body.message) && !HasControl(body.message),
                body.message);
  GG_FUZZ_CHECK(IsUtf8(body.error_code), body.error_code);
  for (const auto& [field, text] : body.field_violations) {
    GG_FUZZ_CHECK(IsUtf8(field) && IsUtf8(text), field + ": " + text);
    GG_FUZZ_CHECK(text.size() <= gitlab::kMaxErrorMessageBytes, text);
  }
}

void CheckStatus(const grpc::Status& status, bool graphql) {
  const google::rpc::Status rpc = CheckErrorDetails(status);
  int gitlab_errors = 0;
  for (const google::protobuf::Any& any : rpc.details()) {
    gitlab_errors += any.Is<v1::GitLabError>();
  }
  GG_FUZZ_CHECK(gitlab_errors == 1, rpc.ShortDebugString());
  if (graphql) {
    GG_FUZZ_CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT,
                  status.error_message());
  }
  const size_t trailer = TrailerBytes(status);
  GG_FUZZ_CHECK(
      trailer <= gitlab::kMaxErrorTrailerBytes,
      absl::StrCat(trailer, " trailer bytes: ", rpc.ShortDebugString()));
}

void TestOneInput(absl::string_view data) {
  const Answer a = Parse(data);
  const gitlab::HeaderView headers(a.headers);
  const absl::string_view content_type =
      gitlab::FindHeader(headers, "content-type").value_or("");
  CheckErrorBody(gitlab::ParseErrorBody(a.body, content_type));

  gitlab::UpstreamAnswer answer;
  answer.status_code = a.status;
  answer.headers = headers;
  answer.body = a.body;
  answer.content_type = content_type;
  answer.path = a.path;
  answer.now = absl::FromUnixSeconds(1700000000);
  answer.attempts = 1;
  if (gitlab::IsSuccess(a.status)) {
    const grpc::Status status =
        gitlab::MapGraphqlErrors("gitlab.example.com", answer);
    if (!status.ok()) CheckStatus(status, /*graphql=*/true);
  } else {
    const grpc::Status status =
        gitlab::MapGitLabAnswer("gitlab.example.com", answer);
    CheckStatus(status, /*graphql=*/false);
  }
}

}  // namespace
}  // namespace gitlab_gateway::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gitlab_gateway::fuzz::TestOneInput(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
