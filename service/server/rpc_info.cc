#include "service/server/rpc_info.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::server {
namespace {

// The value of metadata `key` into `out` ("" when absent or empty), or the
// INVALID_ARGUMENT it is refused with. `header` names the rules it follows.
grpc::Status ReadOne(const grpc::ServerContextBase& context,
                     absl::string_view key, absl::string_view header,
                     std::string* out) {
  const auto& metadata = context.client_metadata();
  auto [begin, end] =
      metadata.equal_range(grpc::string_ref(key.data(), key.size()));
  if (begin == end) return grpc::Status::OK;
  if (std::next(begin) != end) {
    return gitlab::InvalidArgument(gitlab::FieldViolation{
        std::string(key), "metadata must be given at most once",
        "INVALID_METADATA"});
  }
  absl::string_view value(begin->second.data(), begin->second.size());
  if (value.empty()) return grpc::Status::OK;
  if (std::optional<std::string> problem =
          gitlab::CorrelationValueProblem(header, value)) {
    return gitlab::InvalidArgument(gitlab::FieldViolation{
        std::string(key), absl::StrCat("metadata ", *problem),
        "INVALID_METADATA"});
  }
  *out = std::string(value);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ReadRpcInfo(const grpc::ServerContextBase& context,
                         absl::string_view rpc, RpcInfo* out) {
  out->rpc = rpc;
  gitlab::Correlation& c = out->correlation;
  grpc::Status status = ReadOne(context, kRequestIdMetadata,
                                gitlab::kRequestIdHeader, &c.request_id);
  if (status.ok()) {
    status = ReadOne(context, kTraceparentMetadata, gitlab::kTraceparentHeader,
                     &c.traceparent);
  }
  if (status.ok()) {
    status = ReadOne(context, kTracestateMetadata, gitlab::kTracestateHeader,
                     &c.tracestate);
  }
  if (!status.ok()) {
    c = gitlab::Correlation{};
    return status;
  }
  if (c.request_id.empty()) c.request_id = gitlab::NewRequestId();
  return grpc::Status::OK;
}

}  // namespace gitlab_gateway::server
