#ifndef GITLAB_GATEWAY_SERVICE_SERVER_LOG_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_LOG_H_

#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace gitlab_gateway {

// One line to stderr: "2026-11-23T10:00:00.123Z INFO message". Any thread.
// absl 20220623 has no absl/log; this is all the gateway needs. Callers never
// pass tokens: messages are built from validated, non-secret values.
template <typename... Args>
void LogLine(const char* level, const absl::FormatSpec<Args...>& format,
             const Args&... args) {
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      " ", level, " ", absl::StrFormat(format, args...), "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace gitlab_gateway

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_LOG_H_
