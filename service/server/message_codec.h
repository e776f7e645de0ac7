#ifndef GITLAB_GATEWAY_SERVICE_SERVER_MESSAGE_CODEC_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_MESSAGE_CODEC_H_

#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <optional>
#include <string>

namespace gitlab_gateway::server {

// The gateway's methods are registered raw (bytes in, bytes out) so that a
// message protobuf refuses reaches us instead of gRPC's bare UNIMPLEMENTED:
// these turn the bytes into messages and back.
//
// Any thread (gRPC reactions, completions). Decoding costs one pass over
// the bytes; a refused message costs one more pass, to name the field.

// Parses `bytes` into `message`. Returns nullopt on success; else the
// INVALID_ARGUMENT to answer with: reason INVALID_UTF8 and a BadRequest
// naming the field as the caller wrote it ("path", "headers[1].value",
// "request.path") when a string field holds invalid UTF-8, else
// INVALID_REQUEST. When refused, `*id` (if given) gets the top-level `id`
// field when it is readable, else stays empty.
//
// libprotobuf's "String field ... contains invalid UTF-8" ERROR line is not
// printed for these parses (see InstallProtobufLogFilter).
std::optional<grpc::Status> DecodeMessage(const grpc::ByteBuffer& bytes,
                                          google::protobuf::Message* message,
                                          std::string* id = nullptr);

// Serializes `message` for a raw write or a unary answer.
grpc::ByteBuffer EncodeMessage(const google::protobuf::Message& message);

// Routes libprotobuf's log lines emitted while DecodeMessage parses a
// caller's bytes away from stderr (one ERROR line per bad request would
// grow the log without bound); every other line goes to the handler that
// was installed before. Idempotent; call before serving (protobuf's
// SetLogHandler is not thread-safe).
void InstallProtobufLogFilter();

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_MESSAGE_CODEC_H_
