#include "service/auth/policy_decision.h"

#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace gitlab_gateway::auth {
namespace {

Decision Refuse(Decision::Verdict verdict, absl::string_view rule,
                std::string message) {
  Decision decision;
  decision.verdict = verdict;
  decision.rule = std::string(rule);
  decision.message = std::move(message);
  return decision;
}

bool GatewayHeld(absl::string_view credential_name) {
  return credential_name != "request" && credential_name != "none";
}

// A caller without a rule.
Decision DecideUnlisted(const Policy& policy, const Caller& caller,
                        const CallFacts& facts, const PolicyOptions& options) {
  if (GatewayHeld(facts.credential_name)) {
    if (options.allow_anonymous_default_token &&
        facts.credential_name == "default") {
      return Decision{};
    }
    if (!caller.authenticated()) {
      return Refuse(Decision::Verdict::kUnauthenticated, "callers",
                    absl::StrCat("credential \"", facts.credential_name,
                                 "\" is held by the gateway: only an "
                                 "authenticated caller allowed by policy may "
                                 "spend it"));
    }
    return Refuse(Decision::Verdict::kNotAllowed, "callers",
                  absl::StrCat("caller \"", caller.name,
                               "\" has no policy rule (rule \"callers\"): it "
                               "may not spend credential \"",
                               facts.credential_name, "\""));
  }
  if (facts.credential_name == "request" &&
      policy.own_credentials_need_rule()) {
    if (!caller.authenticated()) {
      return Refuse(Decision::Verdict::kUnauthenticated,
                    "own_credentials_need_rule",
                    "the policy requires an authenticated caller even for "
                    "requests bringing their own credentials");
    }
    return Refuse(Decision::Verdict::kNotAllowed, "own_credentials_need_rule",
                  absl::StrCat("caller \"", caller.name,
                               "\" has no policy rule (rule "
                               "\"own_credentials_need_rule\")"));
  }
  return Decision{};
}

bool PathAllowed(const CallerRule& rule, absl::string_view path) {
  if (rule.paths.empty()) return true;
  std::optional<std::vector<std::string>> segments = DecodedSegments(path);
  if (!segments.has_value()) return false;
  for (const PathPattern& pattern : rule.paths) {
    if (pattern.Matches(*segments)) return true;
  }
  return false;
}

}  // namespace

Decision Decide(const Policy& policy, const Caller& caller,
                const CallFacts& facts, const PolicyOptions& options) {
  const CallerRule* rule =
      caller.authenticated() ? policy.Find(caller.name) : nullptr;
  if (rule == nullptr) return DecideUnlisted(policy, caller, facts, options);

  const Decision::Verdict no = Decision::Verdict::kNotAllowed;
  const std::string who = absl::StrCat("caller \"", caller.name, "\"");
  if (GatewayHeld(facts.credential_name) &&
      !rule->credentials.contains(facts.credential_name)) {
    return Refuse(
        no, "credentials",
        absl::StrCat(who, " may not use credential \"", facts.credential_name,
                     "\" (rule \"credentials\")"));
  }
  // GraphQL is always a POST: the graphql flag governs it, methods and
  // paths are about REST.
  if (facts.graphql) {
    if (!rule->graphql) {
      return Refuse(
          no, "graphql",
          absl::StrCat(who, " may not call GraphQL (rule \"graphql\")"));
    }
  } else if (!rule->methods.empty() && !rule->methods.contains(facts.method)) {
    return Refuse(no, "methods",
                  absl::StrCat(who, " may not use method ", facts.method,
                               " (rule \"methods\")"));
  } else if (!PathAllowed(*rule, facts.path)) {
    return Refuse(
        no, "paths",
        absl::StrCat(who, " may not call this path (rule \"paths\")"));
  }
  if (!facts.sudo.empty() && !rule->sudo_any_user &&
      !rule->sudo_users.contains(absl::AsciiStrToLower(facts.sudo))) {
    return Refuse(
        no, "sudo",
        absl::StrCat(who, " may not act as this user (rule \"sudo\")"));
  }
  if (rule->max_body_bytes > 0 && facts.body_size_unknown) {
    return Refuse(no, "max_body_bytes",
                  absl::StrCat(who, " may send at most ", rule->max_body_bytes,
                               " body bytes: announce the upload's size "
                               "(UploadChunk.size) so it can be checked "
                               "(rule \"max_body_bytes\")"));
  }
  if (rule->max_body_bytes > 0 &&
      facts.body_bytes > static_cast<size_t>(rule->max_body_bytes)) {
    return Refuse(no, "max_body_bytes",
                  absl::StrCat(who, " may send at most ", rule->max_body_bytes,
                               " body bytes, got ", facts.body_bytes,
                               " (rule \"max_body_bytes\")"));
  }
  Decision allowed;
  allowed.caller_rule = rule;
  return allowed;
}

std::string FallbackCredential(const Policy& policy, const Caller& caller) {
  if (!caller.authenticated()) return "";
  const CallerRule* rule = policy.Find(caller.name);
  if (rule == nullptr) return "";
  return rule->default_credential;
}

}  // namespace gitlab_gateway::auth
