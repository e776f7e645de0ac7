#ifndef GITLAB_GATEWAY_CLIENT_CLI_PROGRESS_LINE_H_
#define GITLAB_GATEWAY_CLIENT_CLI_PROGRESS_LINE_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "absl/time/time.h"

namespace gitlab_gateway::cli {

// A transfer's progress on one terminal line, redrawn at most every 100 ms:
//   "download  12.0 MiB  45.3 MiB/s  27% [#####...............]"
// (no percent or bar while the size is unknown). Draws nothing when
// `enabled` is false (stderr is not a terminal). One thread.
class ProgressLine {
 public:
  ProgressLine(std::ostream& out, bool enabled, std::string label);

  void SetTotal(std::optional<uint64_t> total) { total_ = total; }
  void Add(uint64_t bytes);
  // The last line, ended with a newline.
  void Done();

  // The line for `bytes` of `total` after `elapsed` (tests).
  static std::string Format(absl::string_view label, uint64_t bytes,
                            std::optional<uint64_t> total,
                            absl::Duration elapsed);

 private:
  void Draw(bool final);

  std::ostream& out_;
  const bool enabled_;
  const std::string label_;
  const absl::Time start_;
  absl::Time last_draw_ = absl::InfinitePast();
  std::optional<uint64_t> total_;
  uint64_t bytes_ = 0;
};

}  // namespace gitlab_gateway::cli

#endif  // GITLAB_GATEWAY_CLIENT_CLI_PROGRESS_LINE_H_
