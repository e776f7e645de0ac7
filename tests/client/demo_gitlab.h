#ifndef GITLAB_GATEWAY_TESTS_CLIENT_DEMO_GITLAB_H_
#define GITLAB_GATEWAY_TESTS_CLIENT_DEMO_GITLAB_H_

// The small GitLab the client tests and examples/ talk to, scripted on a
// FakeGitLab. Paths are under /api/v4:
//
//   GET  /projects/42               200 {"id":42,"name":"demo",...}
//   GET  /projects/<other>          404 {"message":"404 Project Not Found"}
//   POST /projects                  201 {"id":43,"name":<name>} when the JSON
//                                   body has "name"; else 400
//                                   {"message":{"name":["can't be blank"]}}
//   ANY  /echo                      200 JSON: method, path, query, body, the
//                                   auth and Sudo headers, x-demo header,
//                                   request_id (X-Request-Id)
//   GET  /projects/42/issues        3 pages (offset pagination, x-next-page),
//                                   2 issues each: [{"iid":1},{"iid":2}], ...
//   GET  /projects/group%2Fdemo[/issues]  as /projects/42[/issues] (a project
//                                   named by its encoded path, for examples/)
//   GET  /user                      401 {"message":"401 Unauthorized"} when the
//                                   PRIVATE-TOKEN is "revoked"; else 200
//   GET  /rate_limited              429, Retry-After: 3600
//   GET  /slow                      200 {"slow":true} after 300 ms
//   GET  /stall                     never answers
//   GET  /projects/42/repository/files/big.bin/raw
//                                   200 application/octet-stream, kDemoBigFileSize
//                                   bytes (more than three 1 MiB chunks), byte i
//                                   = i % 251 (DemoBigFileByte)
//   GET  /projects/42/repository/files/pattern-<N>.bin/raw
//                                   200 application/octet-stream, N bytes (at
//                                   most 4 GiB) of FillPattern, generated while
//                                   sent: big downloads without memory
//   GET  /projects/42/repository/files/truncated.bin/raw
//                                   200, Content-Length 2 MiB + 6, then 2 MiB + 5
//                                   bytes of FillPattern and a close: a transfer
//                                   that breaks mid-body
//   GET  /projects/42/repository/files/<other>/raw
//                                   404 {"message":"404 File Not Found"}
//   PUT|POST /projects/42/packages/generic/<package>/<version>/<file>
//                                   201 JSON: message, method, size, sha256 (hex
//                                   of the body; "" over kDemoMaxStoredBody),
//                                   fnv1a (hex, FNV-1a 64 of the body),
//                                   content_type, content_length and
//                                   transfer_encoding as received
//   anything else                   404 {"message":"404 Not Found"}
//
// The handler is thread-safe (pure function of the request).


#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "tests/support/fake_gitlab.h"
#include "tests/support/sha256_hex.h"

namespace gitlab_gateway::testing {

// JSON string literal for `s` (enough escaping for test data).
inline std::string DemoJsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// The demo raw file: 3 MiB + 12345 bytes, so a download spans several
// chunks and ends in a partial one; byte i is i % 251 (251 is prime, so
// chunks out of order or repeated change the bytes).
inline constexpr uint64_t kDemoBigFileSize = 3 * 1048576 + 12345;
inline char DemoBigFileByte(uint64_t i) { return static_cast<char>(i % 251); }

// GET .../repository/files/<file>/raw: the big file, or a 404 for others.
inline Reply DemoRawFile(absl::string_view file) {
  uint64_t pattern_size = 0;
  if (absl::ConsumePrefix(&file, "pattern-") &&
      absl::ConsumeSuffix(&file, ".bin") &&
      absl::SimpleAtoi(file, &pattern_size) && pattern_size <= (4ull << 30)) {
    Reply reply;
    reply.pattern_bytes = pattern_size;
    reply.WithHeader("Content-Type", "application/octet-stream");
    return reply;
  }
  if (file == "truncated.bin") {
    Reply reply = Reply::Do(Reply::Action::kTruncate);
    reply.pattern_bytes = 2 * 1048576 + 5;
    reply.WithHeader("Content-Type", "application/octet-stream");
    return reply;
  }
  if (file != "big.bin") {
    return Reply::Json(404, R"({"message":"404 File Not Found"})");
  }
  Reply reply;
  reply.body.resize(kDemoBigFileSize);
  for (uint64_t i = 0; i < kDemoBigFileSize; ++i) {
    reply.body[i] = DemoBigFileByte(i);
  }
  reply.WithHeader("Content-Type", "application/octet-stream");
  return reply;
}

// PUT/POST to the generic package registry: what arrived, as JSON.
inline Reply DemoPackageUpload(const RecordedRequest& r) {
  auto header = [&r](absl::string_view name) {
    return DemoJsonString(r.Header(name).value_or(""));
  };
  return Reply::Json(
      201, absl::StrCat(R"({"message":"201 Created","method":)",
                        DemoJsonString(r.method), R"(,"size":)", r.body_size,
                        R"(,"sha256":")",
                        r.body.size() == r.body_size ? Sha256Hex(r.body)
                                                     : "",
                        R"(","fnv1a":")", absl::Hex(r.body_hash, absl::kZeroPad16),
                        R"(","content_type":)", header("Content-Type"),
                        R"(,"content_length":)", header("Content-Length"),
                        R"(,"transfer_encoding":)",
                        header("Transfer-Encoding"), "}"));
}

inline Reply DemoIssuesPage(const RecordedRequest& r) {
  int page = 1;
  for (absl::string_view kv : absl::StrSplit(r.query, '&')) {
    if (absl::ConsumePrefix(&kv, "page=")) (void)absl::SimpleAtoi(kv, &page);
  }
  if (page < 1 || page > 3) return Reply::Json(200, "[]");
  Reply reply = Reply::Json(200, absl::StrCat(R"([{"iid":)", 2 * page - 1,
                                              R"(},{"iid":)", 2 * page, "}]"));
  reply.WithHeader("x-page", absl::StrCat(page))
      .WithHeader("x-per-page", "2")
      .WithHeader("x-total", "6")
      .WithHeader("x-total-pages", "3")
      .WithHeader("x-next-page", page < 3 ? absl::StrCat(page + 1) : "")
      .WithHeader("x-prev-page", page > 1 ? absl::StrCat(page - 1) : "");
  return reply;
}

inline Reply DemoGitLabReply(const RecordedRequest& r) {
  absl::string_view path = r.path;
  if (!absl::ConsumePrefix(&path, "/api/v4")) {
    return Reply::Json(404, R"({"message":"404 Not Found"})");
  }
  if (path == "/echo") {
    auto header = [&r](absl::string_view name) {
      return DemoJsonString(r.Header(name).value_or(""));
    };
    return Reply::Json(
        200, absl::StrCat(R"({"method":)", DemoJsonString(r.method),
                          R"(,"path":)", DemoJsonString(r.path), R"(,"query":)",
                          DemoJsonString(r.query), R"(,"body":)",
                          DemoJsonString(r.body), R"(,"private_token":)",
                          header("PRIVATE-TOKEN"), R"(,"authorization":)",
                          header("Authorization"), R"(,"job_token":)",
                          header("JOB-TOKEN"), R"(,"sudo":)", header("Sudo"),
                          R"(,"x_demo":)", header("X-Demo"),
                          R"(,"request_id":)", header("X-Request-Id"), "}"));
  }
  if (path == "/projects" && r.method == "POST") {
    size_t at = r.body.find("\"name\"");
    if (at == std::string::npos) {
      return Reply::Json(400, R"({"message":{"name":["can't be blank"]}})");
    }
    return Reply::Json(201, R"({"id":43,"created":true})");
  }
  if (path == "/user") {
    if (r.Header("PRIVATE-TOKEN").value_or("") == "revoked") {
      return Reply::Json(401, R"({"message":"401 Unauthorized"})");
    }
    return Reply::Json(200, R"({"id":1,"username":"demo-user"})");
  }
  if (path == "/rate_limited") {
    return Reply::Json(429, R"({"message":"Retry later"})")
        .WithHeader("Retry-After", "3600");
  }
  if (absl::ConsumePrefix(&path, "/projects/group%2Fdemo")) {
    path = path.empty()        ? absl::string_view("/projects/42")
           : path == "/issues" ? absl::string_view("/projects/42/issues")
                               : absl::string_view("/missing");
  }
  if (path == "/projects/42") {
    return Reply::Json(
        200, R"({"id":42,"name":"demo","path_with_namespace":"group/demo"})");
  }
  if (path == "/projects/42/issues") return DemoIssuesPage(r);
  absl::string_view rest = path;
  if (r.method == "GET" &&
      absl::ConsumePrefix(&rest, "/projects/42/repository/files/") &&
      absl::ConsumeSuffix(&rest, "/raw")) {
    return DemoRawFile(rest);
  }
  rest = path;
  if ((r.method == "PUT" || r.method == "POST") &&
      absl::ConsumePrefix(&rest, "/projects/42/packages/generic/") &&
      std::count(rest.begin(), rest.end(), '/') == 2) {
    return DemoPackageUpload(r);
  }
  if (path == "/slow") {
    return Reply::Json(200, R"({"slow":true})")
        .WithDelay(absl::Milliseconds(300));
  }
  if (path == "/stall") return Reply::Do(Reply::Action::kStall);
  if (absl::StartsWith(path, "/projects/")) {
    return Reply::Json(404, R"({"message":"404 Project Not Found"})");
  }
  return Reply::Json(404, R"({"message":"404 Not Found"})");
}

// Bodies over this are hashed, not stored: a big upload (a measurement)
// costs the fake no memory.
inline constexpr size_t kDemoMaxStoredBody = 16 << 20;

inline void ScriptDemoGitLab(FakeGitLab& fake) {
  fake.SetHandler(DemoGitLabReply);
  fake.SetMaxStoredBody(kDemoMaxStoredBody);
}

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_CLIENT_DEMO_GITLAB_H_
