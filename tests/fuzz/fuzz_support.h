#ifndef GITLAB_GATEWAY_TESTS_FUZZ_FUZZ_SUPPORT_H_
#define GITLAB_GATEWAY_TESTS_FUZZ_FUZZ_SUPPORT_H_

// Helpers shared by the libFuzzer targets: splitting the input into fields,
// and invariant checks written independently of the code under test (they do
// not call the service's own UTF-8 or dot-segment checks). Single-threaded,
// like libFuzzer's calls into LLVMFuzzerTestOneInput.

#include <grpcpp/support/status.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/rpc/status.pb.h"

namespace gitlab_gateway::fuzz {

// Prints `what` and `detail` (C-escaped, cut) and aborts: libFuzzer then
// saves the input as a crash artifact.
[[noreturn]] void Fail(absl::string_view what, absl::string_view detail);

#define GG_FUZZ_CHECK(cond, detail)                             \
  do {                                                          \
    if (!(cond)) ::gitlab_gateway::fuzz::Fail(#cond, (detail)); \
  } while (0)

// "key rest" -> {"key", "rest"}; a line without a space is all key.
std::pair<absl::string_view, absl::string_view> SplitKey(
    absl::string_view line);

// `s` with C escapes (\n, \r, \0, \x7f, \\) decoded; `s` itself when it is
// not a valid escaped string, so raw bytes reach the code as well.
std::string Unescape(absl::string_view s);

// "Name: value" or "Name:value" -> {"Name", "value"}; no colon: {line, ""}.
std::pair<std::string, std::string> SplitHeader(absl::string_view line);

// Well-formed UTF-8 (RFC 3629): no overlong forms, surrogates or code points
// above U+10FFFF.
bool IsUtf8(absl::string_view s);

// True when a byte of `s` is below 0x20 or is 0x7f.
bool HasControl(absl::string_view s);

// True when a segment of `path` (separated by "/", "\", %2F or %5C, any
// case) percent-decodes to "." or "..": what GitLab or a proxy in front of it
// could resolve to leave the API root.
bool HasDotSegment(absl::string_view path);

// The estimate status_mapping.h documents for kMaxErrorTrailerBytes:
// grpc-message percent-encoded (bytes outside 0x20..0x7e and '%' cost 3)
// plus grpc-status-details-bin base64-encoded with padding.
size_t TrailerBytes(const grpc::Status& status);

// Checks what every non-OK status the gateway builds must hold: its
// error_details parse as a google.rpc.Status with the same code and message,
// every detail unpacks (proto3 strings are valid UTF-8), and exactly one is
// an ErrorInfo. Returns the parsed google.rpc.Status.
google::rpc::Status CheckErrorDetails(const grpc::Status& status);

}  // namespace gitlab_gateway::fuzz

#endif  // GITLAB_GATEWAY_TESTS_FUZZ_FUZZ_SUPPORT_H_
