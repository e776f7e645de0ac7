#ifndef GITLAB_GATEWAY_SERVICE_SERVER_STREAM_OPTIONS_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_STREAM_OPTIONS_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "service/engine/byte_budget.h"

// How the streaming RPCs are bounded; set once from flags, read by the
// reactors. Plain values.

namespace gitlab_gateway::server {

struct BatchOptions {
  // Items per stream in flight or awaiting their write.
  int window = 256;
  // Bytes per stream: reading pauses while request bodies of items in
  // flight plus answers received or awaiting their write reach it; answers
  // beyond it fail.
  size_t stream_budget_bytes = size_t{128} << 20;
  // The gateway-wide budget over buffered bodies (shared by every call).
  std::shared_ptr<engine::ByteBudget> memory;
};

struct PaginateOptions {
  int64_t max_pages = 1000;  // hard cap whatever the caller asks
  int prefetch = 4;          // offset pages fetched ahead when totals are known
  // The gateway-wide budget over buffered bodies: each page's answer is
  // charged as it arrives and released once written. Null: none.
  std::shared_ptr<engine::ByteBudget> memory;
};

struct DownloadOptions {
  // A body longer than this fails the download (RESPONSE_TOO_LARGE); 0 =
  // unlimited.
  uint64_t max_bytes = 0;
  // The gateway-wide budget: each stream reserves its bounded buffer from
  // it. Null: none.
  std::shared_ptr<engine::ByteBudget> memory;
};

struct UploadOptions {
  // A body longer than this fails the upload (INVALID_ARGUMENT); 0 =
  // unlimited.
  uint64_t max_bytes = 0;
  std::shared_ptr<engine::ByteBudget> memory;
};

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_STREAM_OPTIONS_H_
