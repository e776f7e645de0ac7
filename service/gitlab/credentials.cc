#include "service/gitlab/credentials.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace gitlab_gateway::gitlab {

namespace v1 = ::gitlab::gateway::v1;
namespace {

// A token is at most kMaxTokenBytes; anything much larger is not a token file.
constexpr size_t kMaxCredentialFileBytes = 64 * 1024;

absl::string_view KindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kPrivate:
      return "private";
    case TokenKind::kOAuth:
      return "oauth";
    case TokenKind::kJob:
      return "job";
  }
  return "unknown";
}

// Reads at most `limit` + 1 bytes so that oversized files are detected
// without reading them whole.
absl::StatusOr<std::string> ReadBounded(const std::string& path, size_t limit) {
  const std::string what = absl::StrCat("credential file \"", path, "\"");
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, what);
  std::string data;
  char buf[4096];
  while (data.size() <= limit) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      return absl::ErrnoToStatus(saved, what);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (data.size() > limit) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is larger than ", limit, " bytes"));
  }
  return data;
}

}  // namespace

absl::StatusOr<TokenKind> ParseTokenKind(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "private") return TokenKind::kPrivate;
  if (lower == "oauth") return TokenKind::kOAuth;
  if (lower == "job") return TokenKind::kJob;
  return absl::InvalidArgumentError(
      absl::StrFormat("unknown token kind \"%s\" (want private, oauth or job)",
                      absl::CHexEscape(name.substr(0, 32))));
}

std::optional<Credential> CredentialFromProto(const v1::Credentials& proto) {
  switch (proto.token_case()) {
    case v1::Credentials::kPrivateToken:
      return Credential{TokenKind::kPrivate, proto.private_token()};
    case v1::Credentials::kOauthToken:
      return Credential{TokenKind::kOAuth, proto.oauth_token()};
    case v1::Credentials::kJobToken:
      return Credential{TokenKind::kJob, proto.job_token()};
    case v1::Credentials::TOKEN_NOT_SET:
      break;
  }
  return std::nullopt;
}

std::string AuthHeaderLine(const Credential& credential) {
  switch (credential.kind) {
    case TokenKind::kPrivate:
      return absl::StrCat("PRIVATE-TOKEN: ", credential.token);
    case TokenKind::kOAuth:
      return absl::StrCat("Authorization: Bearer ", credential.token);
    case TokenKind::kJob:
      return absl::StrCat("JOB-TOKEN: ", credential.token);
  }
  return "";
}

std::string CredentialKey(const Credential& credential) {
  const uint64_t hash = absl::HashOf(static_cast<int>(credential.kind),
                                     absl::string_view(credential.token));
  return absl::StrFormat("%s:%016x", KindName(credential.kind), hash);
}

std::optional<std::string> TokenProblem(absl::string_view token) {
  if (token.empty()) return "must not be empty";
  if (token.size() > kMaxTokenBytes) {
    return absl::StrCat("must be at most ", kMaxTokenBytes, " bytes");
  }
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return std::string(
          "must be printable ASCII without whitespace or control characters");
    }
  }
  return std::nullopt;
}

absl::StatusOr<Credential> LoadCredentialFile(const std::string& path,
                                              TokenKind kind) {
  absl::StatusOr<std::string> data = ReadBounded(path, kMaxCredentialFileBytes);
  if (!data.ok()) return data.status();
  const absl::string_view token = absl::StripAsciiWhitespace(*data);
  const std::string what = absl::StrCat("credential file \"", path, "\"");
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  }
  return CheckedCredential(kind, token, what);
}

absl::StatusOr<Credential> CheckedCredential(TokenKind kind,
                                             absl::string_view token,
                                             absl::string_view what) {
  if (token.find_first_of("\r\n") != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " holds more than one line"));
  }
  if (std::optional<std::string> problem = TokenProblem(token)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": token ", *problem));
  }
  return Credential{kind, std::string(token)};
}

}  // namespace gitlab_gateway::gitlab
