#ifndef GITLAB_GATEWAY_SERVICE_AUTH_PATH_PATTERN_H_
#define GITLAB_GATEWAY_SERVICE_AUTH_PATH_PATTERN_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gitlab_gateway::auth {

// A REST path split at its raw "/" into percent-decoded segments, the way
// policy rules see it: "/projects/group%2Fdemo/issues" ->
// {"projects", "group/demo", "issues"}. nullopt (matches no rule) when the
// path does not start with "/", has an invalid escape, an empty segment
// (one trailing "/" is allowed), or any part that decodes to "." or ".."
// whatever the separator ("/", "\", %2F, %5C) or spelling (%2e%2e). Pure;
// any thread.
std::optional<std::vector<std::string>> DecodedSegments(absl::string_view path);

// One entry of CallerRule.paths, compiled. Segments are percent-decoded and
// compared exactly with a request's decoded segments; ":name" matches any
// one segment and a final "*" any rest, including nothing:
//
//   "/projects/:id/issues"    matches /projects/7/issues,
//                             /projects/group%2Fdemo/issues
//   "/projects/:id/issues/*"  also /projects/7/issues/3/notes
//   "/projects/a%2Fb/*"       /projects/a%2fb/issues, not /projects/a/b
//
// Immutable once compiled; any thread.
class PathPattern {
 public:
  // Refuses patterns not starting with "/", with "*" anywhere but as the
  // whole last segment, empty, "." or ".." segments, bad escapes, or more
  // than kMaxSegments segments.
  static constexpr size_t kMaxSegments = 32;
  static absl::StatusOr<PathPattern> Compile(absl::string_view pattern);

  bool Matches(const std::vector<std::string>& segments) const;

 private:
  struct Segment {
    enum class Kind { kLiteral, kAny, kRest } kind;
    std::string literal;
  };
  std::vector<Segment> segments_;
};

}  // namespace gitlab_gateway::auth

#endif  // GITLAB_GATEWAY_SERVICE_AUTH_PATH_PATTERN_H_
