#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_FIELD_VIOLATION_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_FIELD_VIOLATION_H_

#include <string>

namespace gitlab_gateway::gitlab {

// One refused field of a caller's Request. Becomes INVALID_ARGUMENT with a
// google.rpc.BadRequest field violation and an ErrorInfo carrying `reason`.
// Plain value type; any thread.
//
//   FieldViolation{"path", "\"..\" segments are not allowed", "INVALID_PATH"}
struct FieldViolation {
  // Proto field path as the caller wrote it: "path", "headers[2].name".
  std::string field;
  // What is wrong with the value; never the value itself when it may be secret.
  std::string description;
  // ErrorInfo reason: INVALID_PATH, INVALID_METHOD, INVALID_HEADER, ...
  std::string reason;
};

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_FIELD_VIOLATION_H_
