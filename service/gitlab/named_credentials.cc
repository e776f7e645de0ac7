#include "service/gitlab/named_credentials.h"

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace gitlab_gateway::gitlab {
namespace {

bool NameChar(char c) {
  return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

std::string CredentialNameProblem(absl::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > kMaxCredentialNameBytes) {
    return absl::StrCat("must be at most ", kMaxCredentialNameBytes, " bytes");
  }
  for (char c : name) {
    if (!NameChar(c)) return "must hold only a-z, 0-9, \".\", \"_\" and \"-\"";
  }
  if (!absl::ascii_isalnum(name[0])) {
    return "must start with a letter or digit";
  }
  return "";
}

absl::StatusOr<Credential> ParseCredentialText(absl::string_view text,
                                               TokenKind default_kind,
                                               absl::string_view what) {
  absl::string_view token = absl::StripAsciiWhitespace(text);
  TokenKind kind = default_kind;
  for (auto [prefix, prefixed_kind] : {std::pair<absl::string_view, TokenKind>{
                                           "private:", TokenKind::kPrivate},
                                       {"oauth:", TokenKind::kOAuth},
                                       {"job:", TokenKind::kJob}}) {
    if (absl::ConsumePrefix(&token, prefix)) {
      kind = prefixed_kind;
      break;
    }
  }
  return CheckedCredential(kind, token, what);
}

absl::StatusOr<NamedCredentials> LoadCredentialsDir(const std::string& dir,
                                                    TokenKind default_kind) {
  std::error_code error;
  std::filesystem::directory_iterator it(dir, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat("credentials directory \"", dir, "\": ", error.message()));
  }
  NamedCredentials out;
  for (const std::filesystem::directory_entry& entry : it) {
    const std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, ".")) continue;
    // Follows symlinks: a Secret's files link into "..data".
    if (!entry.is_regular_file(error)) continue;
    const std::string what = absl::StrCat("credential file \"", dir, "/",
                                          absl::CHexEscape(name), "\"");
    if (std::string problem = CredentialNameProblem(name); !problem.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the name ", problem));
    }
    if (name == kDefaultCredentialName || name == kRequestCredentialName ||
        name == kNoCredentialName) {
      return absl::InvalidArgumentError(absl::StrCat(
          what,
          ": the name is reserved (\"default\" is the --token_file token)"));
    }
    if (out.size() == kMaxNamedCredentials) {
      return absl::InvalidArgumentError(
          absl::StrCat("credentials directory \"", dir, "\": more than ",
                       kMaxNamedCredentials, " files"));
    }
    // Reads and bounds the file; the prefix is parsed from what it holds.
    absl::StatusOr<Credential> raw =
        LoadCredentialFile(entry.path().string(), default_kind);
    if (!raw.ok()) return raw.status();
    absl::StatusOr<Credential> credential =
        ParseCredentialText(raw->token, default_kind, what);
    if (!credential.ok()) return credential.status();
    out.emplace(name, *std::move(credential));
  }
  return out;
}

}  // namespace gitlab_gateway::gitlab
