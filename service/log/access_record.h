#ifndef GITLAB_GATEWAY_SERVICE_LOG_ACCESS_RECORD_H_
#define GITLAB_GATEWAY_SERVICE_LOG_ACCESS_RECORD_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace gitlab_gateway::log {

// One access-log line: one Execute, one BatchExecute item or one Paginate
// page. Only names, codes and ids the gateway validated or chose: never a
// token, secret, body or query value. Plain value; built on any thread,
// formatted on the access log's writer thread.
struct AccessRecord {
  absl::Time time;     // when the call ended
  std::string caller;  // auth::Caller::name
  std::string rpc;     // "Execute", "BatchExecute", "Paginate"
  std::string id;      // Request.id (BatchExecute: the item's index if none)
  std::string method;  // "GET"; "" when refused before it was known
  std::string route;   // route template "/projects/:id/issues/:iid"
  // "default" (the gateway's token), "caller" (Request.credentials), "" when
  // refused before Prepare.
  std::string credential_class;
  // The credential spent, by name (gitlab/named_credentials.h): "default",
  // a --credentials_dir name, "request" or "none"; "" when refused before.
  std::string credential_name;
  int http_status = 0;  // GitLab's status code; 0: no answer
  int grpc_code = 0;
  // The serialized google.rpc.Status of an error (grpc::Status
  // error_details, at most ~7 KiB): the writer reads the ErrorInfo reason
  // from it, off the completing thread.
  std::string error_details;
  int attempts = 0;
  absl::Duration upstream_latency;  // the last attempt's, as GitLab answered
  absl::Duration total_latency;     // call start to completion
  std::string gitlab_request_id;    // GitLab's X-Request-Id answer header
  std::string request_id;           // the X-Request-Id GitLab was sent
};

// Caps each string field of a line (longer values end in "...").
inline constexpr size_t kMaxFieldBytes = 512;

// The record as one JSON object and "\n". Strings are JSON-escaped, invalid
// UTF-8 repaired, each cut at kMaxFieldBytes. Pure; any thread.
//
// {"time":"2026-11-30T03:04:05.678Z","caller":"anonymous","rpc":"Execute",
//  "id":"a1","method":"GET","route":"/projects/:id","credential":"default",
//  "credential_name":"","gitlab_status":200,"grpc_code":"OK","reason":"",
//  "attempts":1,"upstream_ms":12.3,"total_ms":13.0,
//  "gitlab_request_id":"01H...","request_id":"5f0c..."}
std::string FormatAccessRecord(const AccessRecord& record);

// The ErrorInfo reason in serialized google.rpc.Status `error_details`; ""
// when there is none or they do not parse. Any thread.
std::string ErrorReason(absl::string_view error_details);

}  // namespace gitlab_gateway::log

#endif  // GITLAB_GATEWAY_SERVICE_LOG_ACCESS_RECORD_H_
