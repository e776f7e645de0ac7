#include "client/cli/progress_line.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace gitlab_gateway::cli {
namespace {

std::string Bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? absl::StrFormat("%.0f %s", bytes, kUnits[unit])
                   : absl::StrFormat("%.1f %s", bytes, kUnits[unit]);
}

}  // namespace

ProgressLine::ProgressLine(std::ostream& out, bool enabled, std::string label)
    : out_(out),
      enabled_(enabled),
      label_(std::move(label)),
      start_(absl::Now()) {}

std::string ProgressLine::Format(absl::string_view label, uint64_t bytes,
                                 std::optional<uint64_t> total,
                                 absl::Duration elapsed) {
  double seconds = std::max(absl::ToDoubleSeconds(elapsed), 1e-3);
  std::string line =
      absl::StrCat(label, "  ", Bytes(static_cast<double>(bytes)), "  ",
                   Bytes(static_cast<double>(bytes) / seconds), "/s");
  if (total.has_value() && *total > 0) {
    uint64_t done = std::min(bytes, *total);
    int percent = static_cast<int>(done * 100 / *total);
    int filled = percent / 5;
    absl::StrAppend(&line, "  ", percent, "% [", std::string(filled, '#'),
                    std::string(20 - filled, '.'), "]");
  }
  return line;
}

void ProgressLine::Add(uint64_t bytes) {
  bytes_ += bytes;
  Draw(false);
}

void ProgressLine::Done() { Draw(true); }

void ProgressLine::Draw(bool final) {
  if (!enabled_) return;
  absl::Time now = absl::Now();
  if (!final && now - last_draw_ < absl::Milliseconds(100)) return;
  last_draw_ = now;
  // Padded so that a shorter line covers the previous one.
  out_ << "\r"
       << absl::StrFormat("%-70s", Format(label_, bytes_, total_, now - start_))
       << (final ? "\n" : "") << std::flush;
}

}  // namespace gitlab_gateway::cli
