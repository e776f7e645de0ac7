#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_CREDENTIALS_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_CREDENTIALS_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gitlab/gateway/v1/gateway.pb.h"

namespace gitlab_gateway::gitlab {

// The three ways GitLab accepts a token (see GITLAB_API_NOTES.md).
enum class TokenKind {
  kPrivate,  // PRIVATE-TOKEN: personal/project/group access token
  kOAuth,    // Authorization: Bearer
  kJob,      // JOB-TOKEN: CI job token
};

// A token and how to send it. Holds a secret: never log it, never put
// `token` in an error message; use CredentialKey() to name it.
struct Credential {
  TokenKind kind;
  std::string token;
};

// All functions below are pure (LoadCredentialFile reads a file) and may be
// called from any thread.

// "private", "oauth" or "job", case-insensitive (flag values).
absl::StatusOr<TokenKind> ParseTokenKind(absl::string_view name);

// The credential a caller set in Request.credentials; nullopt when no token
// is set (the gateway's configured credential applies). Does not validate the
// token; ValidateRequest() does.
std::optional<Credential> CredentialFromProto(
    const ::gitlab::gateway::v1::Credentials& proto);

// The header line that authenticates `credential`, without CRLF:
//   "PRIVATE-TOKEN: t", "Authorization: Bearer t" or "JOB-TOKEN: t".
std::string AuthHeaderLine(const Credential& credential);

// A short key naming `credential` in per-credential state (token buckets,
// pause-after-429) and in logs, e.g. "private:3f9c0a1d2e4b5c6d". The hex part
// is a 64-bit absl::Hash of kind and token: it never contains the token, is
// stable within one process and differs between processes (absl::Hash is
// seeded per process), so it cannot be matched against other runs' logs.
std::string CredentialKey(const Credential& credential);

// Why `token` cannot be sent in a header, or nullopt when it can: empty,
// longer than kMaxTokenBytes, or holding anything but printable ASCII without
// spaces. The description never contains the token.
inline constexpr size_t kMaxTokenBytes = 4096;
std::optional<std::string> TokenProblem(absl::string_view token);

// `token` (already trimmed) as a Credential of `kind`, or an error naming
// `what` (never the token): several lines, or a token TokenProblem()
// refuses. Shared by the token file and the named-credentials directory.
absl::StatusOr<Credential> CheckedCredential(TokenKind kind,
                                             absl::string_view token,
                                             absl::string_view what);

// Reads a token file (a mounted Kubernetes Secret, for instance): surrounding
// whitespace and the trailing newline are trimmed; an empty file, several
// lines, or a token TokenProblem() refuses are errors. Error messages name
// the file, never its contents.
absl::StatusOr<Credential> LoadCredentialFile(const std::string& path,
                                              TokenKind kind);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_CREDENTIALS_H_
