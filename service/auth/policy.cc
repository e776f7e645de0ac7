#include "service/auth/policy.h"

#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/json_util.h"

namespace gitlab_gateway::auth {

namespace v1 = ::gitlab::gateway::v1;
namespace {

constexpr absl::string_view kMethods[] = {"GET", "HEAD",  "POST",
                                          "PUT", "PATCH", "DELETE"};

// "callers[2] (\"ci-bot\").paths[0]: <why>".
class RuleErrors {
 public:
  RuleErrors(int index, absl::string_view name)
      : prefix_(absl::StrCat(
            "callers[", index, "]",
            name.empty()
                ? ""
                : absl::StrCat(" (\"", absl::CHexEscape(name), "\")"))) {}
  absl::Status Error(absl::string_view field, absl::string_view why) const {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix_, ".", field, ": ", why));
  }

 private:
  std::string prefix_;
};

absl::StatusOr<CallerRule> Compile(
    const v1::CallerRule& proto, int index,
    const absl::flat_hash_set<std::string>& credential_names) {
  const RuleErrors errors(index, proto.name());
  CallerRule rule;
  if (proto.name().empty()) return errors.Error("name", "must not be empty");
  if (proto.name() == "anonymous") {
    return errors.Error("name",
                        "\"anonymous\" cannot have a rule: anonymous callers "
                        "prove nothing (see --allow_anonymous_default_token)");
  }
  rule.name = proto.name();
  for (const std::string& name : proto.credentials()) {
    if (!credential_names.contains(name)) {
      std::vector<std::string> held(credential_names.begin(),
                                    credential_names.end());
      std::sort(held.begin(), held.end());
      return errors.Error(
          "credentials",
          absl::StrCat("the gateway holds no credential \"",
                       absl::CHexEscape(name), "\" (it holds: ",
                       held.empty() ? "none" : absl::StrJoin(held, ", "), ")"));
    }
    rule.credentials.insert(name);
  }
  if (!proto.default_credential().empty()) {
    if (!rule.credentials.contains(proto.default_credential())) {
      return errors.Error("default_credential",
                          "must be one of the rule's credentials");
    }
    rule.default_credential = proto.default_credential();
  }
  for (const std::string& method : proto.methods()) {
    const std::string upper = absl::AsciiStrToUpper(method);
    if (std::find(std::begin(kMethods), std::end(kMethods), upper) ==
        std::end(kMethods)) {
      return errors.Error(
          "methods", absl::StrCat("unknown method \"", absl::CHexEscape(method),
                                  "\" (GET, HEAD, POST, PUT, PATCH, "
                                  "DELETE)"));
    }
    rule.methods.insert(upper);
  }
  if (proto.paths_size() > kMaxPolicyPaths) {
    return errors.Error("paths", absl::StrCat("at most ", kMaxPolicyPaths));
  }
  for (int i = 0; i < proto.paths_size(); ++i) {
    absl::StatusOr<PathPattern> pattern = PathPattern::Compile(proto.paths(i));
    if (!pattern.ok()) {
      return errors.Error(absl::StrCat("paths[", i, "]"),
                          pattern.status().message());
    }
    rule.paths.push_back(*std::move(pattern));
  }
  rule.sudo_any_user = proto.sudo().any_user();
  if (proto.sudo().users_size() > kMaxPolicySudoUsers) {
    return errors.Error("sudo.users",
                        absl::StrCat("at most ", kMaxPolicySudoUsers));
  }
  for (const std::string& user : proto.sudo().users()) {
    if (user.empty()) return errors.Error("sudo.users", "must not be empty");
    rule.sudo_users.insert(absl::AsciiStrToLower(user));
  }
  rule.graphql = proto.graphql();
  if (!(std::isfinite(proto.calls_per_minute()) &&
        proto.calls_per_minute() >= 0)) {
    return errors.Error("calls_per_minute", "must be a finite number >= 0");
  }
  if (!(std::isfinite(proto.burst()) && proto.burst() >= 0)) {
    return errors.Error("burst", "must be a finite number >= 0");
  }
  rule.calls_per_minute = proto.calls_per_minute();
  rule.burst = proto.burst() > 0 ? proto.burst()
                                 : std::max(1.0, proto.calls_per_minute() / 10);
  if (proto.max_body_bytes() < 0) {
    return errors.Error("max_body_bytes", "must be >= 0");
  }
  rule.max_body_bytes = proto.max_body_bytes();
  return rule;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Policy>> Policy::FromJson(
    absl::string_view json,
    const absl::flat_hash_set<std::string>& credential_names) {
  if (json.size() > kMaxPolicyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("larger than ", kMaxPolicyBytes, " bytes"));
  }
  v1::Policy proto;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(std::string(json),
                                                            &proto, options);
  if (!parsed.ok()) {
    // One line: the parser's message may show the input over several.
    std::string why(parsed.message());
    absl::StrReplaceAll({{"\n", " "}, {"\r", " "}}, &why);
    return absl::InvalidArgumentError(
        absl::StrCat("not a gitlab.gateway.v1.Policy in JSON: ",
                     absl::StripAsciiWhitespace(why)));
  }
  if (proto.callers_size() > kMaxPolicyCallers) {
    return absl::InvalidArgumentError(
        absl::StrCat("callers: at most ", kMaxPolicyCallers));
  }
  auto policy = std::shared_ptr<Policy>(new Policy());
  policy->own_credentials_need_rule_ = proto.own_credentials_need_rule();
  for (int i = 0; i < proto.callers_size(); ++i) {
    absl::StatusOr<CallerRule> rule =
        Compile(proto.callers(i), i, credential_names);
    if (!rule.ok()) return rule.status();
    std::string name = rule->name;
    if (!policy->rules_.emplace(name, *std::move(rule)).second) {
      return RuleErrors(i, name).Error("name", "a rule for it already exists");
    }
  }
  return std::shared_ptr<const Policy>(std::move(policy));
}

std::shared_ptr<const Policy> Policy::Empty() {
  return std::shared_ptr<const Policy>(new Policy());
}

std::vector<std::string> Policy::caller_names() const {
  std::vector<std::string> names;
  names.reserve(rules_.size());
  for (const auto& [name, rule] : rules_) names.push_back(name);
  return names;
}

const CallerRule* Policy::Find(absl::string_view caller_name) const {
  auto it = rules_.find(caller_name);
  return it == rules_.end() ? nullptr : &it->second;
}

}  // namespace gitlab_gateway::auth
