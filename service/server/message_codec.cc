#include "service/server/message_codec.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

#include <mutex>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "service/gitlab/response_body.h"
#include "service/gitlab/status_mapping.h"

namespace gitlab_gateway::server {
namespace {

namespace pb = ::google::protobuf;
using pb::internal::WireFormatLite;

// Set while this thread parses a caller's bytes: libprotobuf's lines go
// here (the first one kept) instead of stderr.
thread_local std::string* captured_log = nullptr;
pb::LogHandler* previous_log_handler = nullptr;

void FilteringLogHandler(pb::LogLevel level, const char* filename, int line,
                         const std::string& message) {
  if (captured_log != nullptr && level != pb::LOGLEVEL_FATAL) {
    if (captured_log->empty()) *captured_log = message;
    return;
  }
  if (previous_log_handler != nullptr) {
    previous_log_handler(level, filename, line, message);
  }
}

class CaptureLog {
 public:
  explicit CaptureLog(std::string* into) { captured_log = into; }
  ~CaptureLog() { captured_log = nullptr; }
};

// Messages nest a few levels (Request.credentials); deeper is hostile.
constexpr int kMaxDepth = 16;

struct Scan {
  std::string bad_field;  // first string field with invalid UTF-8
  std::string id;         // top-level `id`, when valid UTF-8
  bool malformed = false;
};

// Walks the wire bytes of a `type` message, field by field, to find what
// protobuf refused: the first string field holding invalid UTF-8, named by
// its path with repeated indexes. Unknown fields are skipped as protobuf
// does.
void ScanMessage(const pb::Descriptor* type, pb::io::CodedInputStream* in,
                 const std::string& prefix, int depth, Scan* scan) {
  absl::flat_hash_map<int, int> repeated_seen;
  while (!scan->malformed) {
    const uint32_t tag = in->ReadTag();
    if (tag == 0) {
      if (!in->ConsumedEntireMessage()) scan->malformed = true;
      return;
    }
    const pb::FieldDescriptor* field =
        type->FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    const bool delimited = WireFormatLite::GetTagWireType(tag) ==
                           WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    if (field == nullptr || !delimited ||
        (field->type() != pb::FieldDescriptor::TYPE_STRING &&
         field->type() != pb::FieldDescriptor::TYPE_MESSAGE)) {
      if (!WireFormatLite::SkipField(in, tag)) scan->malformed = true;
      continue;
    }
    std::string path = absl::StrCat(prefix, field->name());
    if (field->is_repeated()) {
      absl::StrAppend(&path, "[", repeated_seen[field->number()]++, "]");
    }
    uint32_t length = 0;
    if (!in->ReadVarint32(&length)) {
      scan->malformed = true;
      return;
    }
    if (field->type() == pb::FieldDescriptor::TYPE_STRING) {
      std::string value;
      if (!in->ReadString(&value, static_cast<int>(length))) {
        scan->malformed = true;
        return;
      }
      const bool valid = gitlab::IsValidUtf8(value);
      if (!valid && scan->bad_field.empty()) scan->bad_field = path;
      if (valid && depth == 0 && field->name() == "id") {
        scan->id = std::move(value);
      }
      continue;
    }
    if (depth >= kMaxDepth) {
      scan->malformed = true;
      return;
    }
    const auto limit = in->PushLimit(static_cast<int>(length));
    ScanMessage(field->message_type(), in, absl::StrCat(path, "."), depth + 1,
                scan);
    in->PopLimit(limit);
  }
}

// "String field 'gitlab.gateway.v1.Request.path' contains invalid UTF-8
// ..." -> "path": the field's own name, when the scan could not tell.
std::string FieldFromDiagnostic(const std::string& diagnostic) {
  const std::string kPrefix = "String field '";
  size_t start = diagnostic.find(kPrefix);
  if (start == std::string::npos) return "";
  start += kPrefix.size();
  size_t end = diagnostic.find('\'', start);
  if (end == std::string::npos) return "";
  std::string full = diagnostic.substr(start, end - start);
  size_t dot = full.rfind('.');
  return dot == std::string::npos ? full : full.substr(dot + 1);
}

}  // namespace

void InstallProtobufLogFilter() {
  static std::once_flag once;
  std::call_once(once, [] {
    previous_log_handler = pb::SetLogHandler(&FilteringLogHandler);
  });
}

std::optional<grpc::Status> DecodeMessage(const grpc::ByteBuffer& bytes,
                                          pb::Message* message,
                                          std::string* id) {
  // Copying a ByteBuffer takes references to its slices, not their bytes.
  grpc::ByteBuffer copy(bytes);
  std::string diagnostic;
  {
    CaptureLog capture(&diagnostic);
    grpc::ProtoBufferReader reader(&copy);
    if (message->ParseFromZeroCopyStream(&reader)) return std::nullopt;
  }
  message->Clear();
  Scan scan;
  {
    grpc::ByteBuffer again(bytes);
    grpc::ProtoBufferReader reader(&again);
    pb::io::CodedInputStream in(&reader);
    ScanMessage(message->GetDescriptor(), &in, "", 0, &scan);
  }
  if (id != nullptr) *id = scan.id;
  std::string field = scan.bad_field;
  if (field.empty()) field = FieldFromDiagnostic(diagnostic);
  if (!field.empty()) {
    return gitlab::InvalidArgument(gitlab::FieldViolation{
        field,
        "must be valid UTF-8 (string fields are UTF-8; send raw bytes in "
        "`content`)",
        "INVALID_UTF8"});
  }
  return gitlab::InvalidArgument(gitlab::FieldViolation{
      "request",
      absl::StrCat("cannot be decoded as ", message->GetTypeName(),
                   " (malformed protobuf wire bytes)"),
      "INVALID_REQUEST"});
}

grpc::ByteBuffer EncodeMessage(const pb::Message& message) {
  grpc::ByteBuffer bytes;
  bool own = false;
  // Fails only for messages over 2 GiB, which no answer reaches (bodies are
  // capped far below).
  (void)grpc::GenericSerialize<grpc::ProtoBufferWriter, pb::Message>(
      message, &bytes, &own);
  return bytes;
}

}  // namespace gitlab_gateway::server
