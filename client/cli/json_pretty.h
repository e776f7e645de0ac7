#ifndef GITLAB_GATEWAY_CLIENT_CLI_JSON_PRETTY_H_
#define GITLAB_GATEWAY_CLIENT_CLI_JSON_PRETTY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace gitlab_gateway::cli {

// `text` re-indented with two spaces per level. Tokens are kept byte for byte
// (numbers are not reformatted, key order is kept), only whitespace between
// tokens changes. nullopt unless `text` is an object or array whose brackets
// and strings are well formed. Pure; any thread.
//
//   PrettyJson(R"({"a":[1,2],"b":{}})")  ->  "{\n  \"a\": [\n    1,\n ..."
std::optional<std::string> PrettyJson(absl::string_view text);

// The elements of a JSON array, each on one line: whitespace between tokens
// removed, tokens kept byte for byte. nullopt unless `text` is a well-formed
// array (as PrettyJson judges it). Pure; any thread.
//
//   JsonArrayItems(R"([{"iid": 1}, 2])")  ->  {R"({"iid":1})", "2"}
std::optional<std::vector<std::string>> JsonArrayItems(absl::string_view text);

}  // namespace gitlab_gateway::cli

#endif  // GITLAB_GATEWAY_CLIENT_CLI_JSON_PRETTY_H_
