#ifndef GITLAB_GATEWAY_SERVICE_SERVER_STREAM_CHUNKS_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_STREAM_CHUNKS_H_

#include <grpcpp/support/byte_buffer.h>

#include <string>

#include "gitlab/gateway/v1/gateway.pb.h"
#include "service/engine/body_stream.h"

// The wire form of Download's messages, and a streamed answer's head.
// Pure functions; any thread.

namespace gitlab_gateway::server {

// The largest body piece in one DownloadChunk (and read per UploadChunk).
inline constexpr size_t kMaxChunkBytes = size_t{1} << 20;

// DownloadChunk{data: bytes}: the bytes are not copied (the buffer owns
// them until gRPC has sent them).
grpc::ByteBuffer EncodeDownloadData(std::string bytes);

// DownloadChunk{head: head}.
grpc::ByteBuffer EncodeDownloadHead(
    const ::gitlab::gateway::v1::Response& head);

// The head a Download sends before a 2xx body: status, headers (invalid
// UTF-8 repaired), page and rate-limit info. O(headers), which the engine
// caps.
::gitlab::gateway::v1::Response StreamedHead(
    int status_code, const engine::BodySink::Headers& headers);

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_STREAM_CHUNKS_H_
