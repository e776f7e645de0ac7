#ifndef GITLAB_GATEWAY_SERVICE_AUTH_POLICY_DECISION_H_
#define GITLAB_GATEWAY_SERVICE_AUTH_POLICY_DECISION_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "service/auth/caller.h"
#include "service/auth/policy.h"

namespace gitlab_gateway::auth {

// What the policy looks at in one prepared call (views into it; the
// caller keeps them alive during Decide).
struct CallFacts {
  absl::string_view method;  // uppercase, e.g. "GET" ("POST" for GraphQL)
  absl::string_view path;    // REST path as sent (raw); ignored for GraphQL
  bool graphql = false;
  absl::string_view sudo;  // "" when none
  size_t body_bytes = 0;
  // A streamed body (Upload) whose size was not announced: body_bytes is
  // unknown, so a max_body_bytes rule cannot allow it.
  bool body_size_unknown = false;
  // gitlab::PreparedCall::credential_name: a held name, "default",
  // "request" (the caller's own credentials) or "none".
  absl::string_view credential_name;
};

struct PolicyOptions {
  // --allow_anonymous_default_token: callers without a rule (anonymous ones
  // included) may spend the default token, as before policies existed.
  bool allow_anonymous_default_token = false;
};

// The verdict on one call. Plain value.
struct Decision {
  enum class Verdict {
    kAllow,
    kUnauthenticated,  // UNAUTHENTICATED, reason CALLER_UNAUTHENTICATED
    kNotAllowed,       // PERMISSION_DENIED, reason CALLER_NOT_ALLOWED
  };
  Verdict verdict = Verdict::kAllow;
  // The rule that refused: "callers" (no rule names the caller),
  // "own_credentials_need_rule", "credentials", "methods", "paths", "sudo",
  // "graphql" or "max_body_bytes".
  std::string rule;
  // Why, for the error message; names the caller and the rule, never a
  // secret, a path or a sudo user.
  std::string message;
  // The caller's rule when one applies (its per-caller rate is checked
  // next), else null. Points into the policy the decision was made on.
  const CallerRule* caller_rule = nullptr;

  bool allowed() const { return verdict == Verdict::kAllow; }
};

// Whether `caller` may make the call `facts` describes, under `policy`.
// Pure; any thread.
//
// A caller with a rule (authenticated callers only) is held to all of it:
// gateway-held credentials must be listed, and methods, paths, sudo, GraphQL
// and body size apply to every call whatever the credential. A caller
// without a rule may not spend a credential the gateway holds (anonymous:
// UNAUTHENTICATED; authenticated: PERMISSION_DENIED rule "callers"), except
// the default token under allow_anonymous_default_token; calls with its own
// credentials or none pass unless the policy sets own_credentials_need_rule.
Decision Decide(const Policy& policy, const Caller& caller,
                const CallFacts& facts, const PolicyOptions& options);

// The credential name Prepare falls back to for `caller`: its rule's
// default_credential, or "" (the default token) when it has none or no rule.
// Pure; any thread.
std::string FallbackCredential(const Policy& policy, const Caller& caller);

}  // namespace gitlab_gateway::auth

#endif  // GITLAB_GATEWAY_SERVICE_AUTH_POLICY_DECISION_H_
