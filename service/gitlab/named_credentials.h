#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_NAMED_CREDENTIALS_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_NAMED_CREDENTIALS_H_

#include <cstddef>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "service/gitlab/credentials.h"

namespace gitlab_gateway::gitlab {

// The GitLab credentials the gateway holds by name (--credentials_dir), e.g.
// "readonly", "release-bot". The default token is not in it: it is named
// kDefaultCredentialName wherever a name is asked for. Immutable once built;
// any thread.
using NamedCredentials = absl::flat_hash_map<std::string, Credential>;

// The name the default token (--token_file / GITLAB_TOKEN) goes by.
inline constexpr absl::string_view kDefaultCredentialName = "default";
// PreparedCall::credential_name of a call that brought its own
// Request.credentials, and of one sent without any credential.
inline constexpr absl::string_view kRequestCredentialName = "request";
inline constexpr absl::string_view kNoCredentialName = "none";

inline constexpr size_t kMaxCredentialNameBytes = 63;
inline constexpr size_t kMaxNamedCredentials = 256;

// Why `name` cannot name a credential, or "" when it can: 1 to 63 of
// [a-z0-9._-], starting with a letter or digit. Pure; any thread.
std::string CredentialNameProblem(absl::string_view name);

// A credential file's contents as a token: "oauth:<token>", "private:<token>"
// or "job:<token>" say the kind; without a prefix the token is of
// `default_kind` (--token_type). `what` names the file in errors, which never
// hold the token. Pure; any thread.
absl::StatusOr<Credential> ParseCredentialText(absl::string_view text,
                                               TokenKind default_kind,
                                               absl::string_view what);

// Every credential in `dir`: one regular file per name (the file's name),
// holding one token as ParseCredentialText reads it. Entries starting with
// "." are skipped (a mounted Kubernetes Secret keeps its data in "..data").
// Reserved names ("default", "request", "none"), invalid names, more than
// kMaxNamedCredentials files and unreadable or invalid tokens are errors
// naming the file, never its contents. Reads files; any thread.
absl::StatusOr<NamedCredentials> LoadCredentialsDir(const std::string& dir,
                                                    TokenKind default_kind);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_NAMED_CREDENTIALS_H_
