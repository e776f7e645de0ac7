#ifndef GITLAB_GATEWAY_TESTS_SERVER_DOWNLOAD_STREAM_H_
#define GITLAB_GATEWAY_TESTS_SERVER_DOWNLOAD_STREAM_H_

// Test helpers for Download: the process's resident memory, and a reader
// that checks every body byte against the fake's pattern as it arrives
// (nothing is kept). Test thread only.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gitlab/gateway/v1/gateway.grpc.pb.h"
#include "tests/support/fake_gitlab.h"

namespace gitlab_gateway::testing {

// Whether RSS says anything about the code: ASan's quarantine holds freed
// memory (256 MiB by default), so the RSS bounds are checked without it.
// (ThreadSanitizer builds skip those tests: tests/CMakeLists.txt.)
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kRssIsMeaningful = false;
#else
inline constexpr bool kRssIsMeaningful = true;
#endif

// VmRSS of this process, in bytes (0 if unreadable).
inline size_t ResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "VmRSS:")) continue;
    std::vector<std::string> parts =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    size_t kb = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kb)) return kb << 10;
  }
  return 0;
}

// One Download call, read message by message.
struct DownloadStream {
  DownloadStream(::gitlab::gateway::v1::Gateway::Stub& stub,
                 const ::gitlab::gateway::v1::Request& request,
                 absl::Duration deadline = absl::Seconds(120)) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    reader = stub.Download(&context, request);
  }

  // Reads the next message; false at the end of the stream.
  bool Next() {
    if (!reader->Read(&chunk)) return false;
    ++messages;
    if (chunk.has_head()) {
      if (messages != 1) ++misplaced_heads;
      ++heads;
      head = chunk.head();
    } else {
      largest = std::max(largest, chunk.data().size());
      if (check_pattern) {
        expected.resize(chunk.data().size());
        FillPattern(pattern_offset + bytes, expected.data(), expected.size());
        if (chunk.data() != expected) ++mismatches;
      }
      bytes += chunk.data().size();
    }
    return true;
  }

  // Reads to the end; `each` (if set) runs after every message.
  grpc::Status ReadAll(const std::function<void()>& each = nullptr) {
    while (Next()) {
      if (each) each();
    }
    return reader->Finish();
  }

  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<::gitlab::gateway::v1::DownloadChunk>>
      reader;
  ::gitlab::gateway::v1::DownloadChunk chunk;
  ::gitlab::gateway::v1::Response head;
  bool check_pattern = true;
  uint64_t pattern_offset = 0;
  uint64_t bytes = 0;
  size_t largest = 0;
  int messages = 0;
  int heads = 0;
  int misplaced_heads = 0;  // heads after the first message
  int mismatches = 0;
  std::string expected;
};

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SERVER_DOWNLOAD_STREAM_H_
