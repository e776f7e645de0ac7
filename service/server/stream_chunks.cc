#include "service/server/stream_chunks.h"

#include <grpcpp/support/slice.h>

#include <cstdint>
#include <utility>

#include "service/gitlab/response_body.h"
#include "service/gitlab/response_headers.h"
#include "service/server/message_codec.h"

namespace gitlab_gateway::server {

namespace v1 = ::gitlab::gateway::v1;
namespace {

// Field 2 (data), wire type 2 (length-delimited).
constexpr uint8_t kDataTag = (2 << 3) | 2;

std::string Utf8(const std::string& s) {
  return gitlab::IsValidUtf8(s) ? s : gitlab::ToValidUtf8(s);
}

}  // namespace

grpc::ByteBuffer EncodeDownloadData(std::string bytes) {
  uint8_t prefix[11];
  size_t n = 0;
  prefix[n++] = kDataTag;
  uint64_t length = bytes.size();
  do {
    uint8_t byte = length & 0x7f;
    length >>= 7;
    prefix[n++] = byte | (length != 0 ? 0x80 : 0);
  } while (length != 0);
  auto* owned = new std::string(std::move(bytes));
  grpc::Slice slices[2] = {
      grpc::Slice(prefix, n),
      grpc::Slice(
          owned->data(), owned->size(),
          [](void* p) { delete static_cast<std::string*>(p); }, owned)};
  return grpc::ByteBuffer(slices, 2);
}

grpc::ByteBuffer EncodeDownloadHead(const v1::Response& head) {
  v1::DownloadChunk chunk;
  *chunk.mutable_head() = head;
  return EncodeMessage(chunk);
}

v1::Response StreamedHead(int status_code,
                          const engine::BodySink::Headers& headers) {
  v1::Response head;
  head.set_status_code(status_code);
  *head.mutable_page() = gitlab::ParsePage(headers);
  *head.mutable_rate_limit() = gitlab::ParseRateLimit(headers);
  head.mutable_headers()->Reserve(static_cast<int>(headers.size()));
  for (const auto& [name, value] : headers) {
    v1::Header* header = head.add_headers();
    header->set_name(Utf8(name));
    header->set_value(Utf8(value));
  }
  return head;
}

}  // namespace gitlab_gateway::server
