#ifndef GITLAB_GATEWAY_SERVICE_AUTH_POLICY_H_
#define GITLAB_GATEWAY_SERVICE_AUTH_POLICY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gitlab/gateway/v1/policy.pb.h"
#include "service/auth/path_pattern.h"

namespace gitlab_gateway::auth {

// Bounds on what a policy file may hold.
inline constexpr size_t kMaxPolicyBytes = 1 << 20;
inline constexpr int kMaxPolicyCallers = 1000;
inline constexpr int kMaxPolicyPaths = 256;
inline constexpr int kMaxPolicySudoUsers = 256;

// One ::gitlab::gateway::v1::CallerRule, checked and compiled. Immutable; any
// thread.
struct CallerRule {
  std::string name;
  absl::flat_hash_set<std::string> credentials;
  std::string default_credential;            // "" when none
  absl::flat_hash_set<std::string> methods;  // uppercase; empty: any
  std::vector<PathPattern> paths;            // empty: any
  bool sudo_any_user = false;
  absl::flat_hash_set<std::string> sudo_users;  // lowercase
  bool graphql = false;
  double calls_per_minute = 0;  // 0: no per-caller limit
  double burst = 1;
  int64_t max_body_bytes = 0;  // 0: no per-caller cap
};

// The caller policy (--policy_file), compiled from its JSON form
// (::gitlab::gateway::v1::Policy, protobuf's JSON mapping). Immutable once
// built: PolicyStore swaps whole policies. Any thread.
//
//   auto policy = Policy::FromJson(text, {"default", "readonly"});
//   const CallerRule* rule = (*policy)->Find("ci-bot");
class Policy {
 public:
  // Parses and checks `json`: unknown fields, rules without a name, the name
  // "anonymous", duplicate names, credentials not in `credential_names` (the
  // names the gateway holds, "default" included when it has a default
  // token), a default_credential not among the rule's credentials, unknown
  // methods, bad path patterns, negative numbers and anything beyond the
  // kMaxPolicy* bounds are errors naming the rule and field.
  static absl::StatusOr<std::shared_ptr<const Policy>> FromJson(
      absl::string_view json,
      const absl::flat_hash_set<std::string>& credential_names);

  // No rules at all (no --policy_file).
  static std::shared_ptr<const Policy> Empty();

  // The rule named `caller_name`, or null.
  const CallerRule* Find(absl::string_view caller_name) const;
  bool own_credentials_need_rule() const { return own_credentials_need_rule_; }
  size_t size() const { return rules_.size(); }
  // The callers with a rule (any order).
  std::vector<std::string> caller_names() const;

 private:
  absl::flat_hash_map<std::string, CallerRule> rules_;
  bool own_credentials_need_rule_ = false;
};

}  // namespace gitlab_gateway::auth

#endif  // GITLAB_GATEWAY_SERVICE_AUTH_POLICY_H_
