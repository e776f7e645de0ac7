#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_JSON_SCAN_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_JSON_SCAN_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace gitlab_gateway::gitlab {

// The raw text of the value of `key` in the top-level JSON object `json`,
// or nullopt when `json` is not an object holding that key (or is cut off
// before its value ends). One pass, no allocation, no recursion: nesting
// depth costs nothing, so it is safe on answers of any size and shape.
// Keys are compared as written (an escaped key does not match). Containers
// are skipped by bracket count, not validated: parse the returned text
// before trusting it. Pure; any thread.
//
//   TopLevelMember(R"({"data":{"errors":1},"errors":[{"message":"x"}]})",
//                  "errors")  ->  R"([{"message":"x"}])"
std::optional<absl::string_view> TopLevelMember(absl::string_view json,
                                                absl::string_view key);

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_JSON_SCAN_H_
