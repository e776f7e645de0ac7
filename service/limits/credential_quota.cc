#include "service/limits/credential_quota.h"

#include <algorithm>

namespace gitlab_gateway::limits {
namespace {

// The hourly bucket holds at most a minute of the hourly pace (and never
// more than the burst), and refills at what is left of the hour after that
// burst: any 3600 s then sees at most per_hour calls.
std::optional<TokenBucket> HourBucket(const LimiterOptions& options,
                                      absl::Time now) {
  if (!(options.per_hour > 0)) return std::nullopt;
  const double burst =
      std::max(1.0, std::min(options.burst, options.per_hour / 60.0));
  const double per_second = std::max(options.per_hour - burst, 1.0) / 3600.0;
  return TokenBucket(per_second, burst, now);
}

}  // namespace

CredentialQuota::CredentialQuota(const LimiterOptions& options, absl::Time now)
    : minute_(options.per_minute / 60.0, options.burst, now),
      hour_(HourBucket(options, now)),
      learn_(options.per_minute > 0 &&
                     options.slow_start_wait > absl::ZeroDuration()
                 ? Learn::kUnknown
                 : Learn::kKnown),
      slow_start_wait_(options.slow_start_wait) {}

const CredentialQuota::RoutePause* CredentialQuota::FindRoutePause(
    absl::string_view route, absl::Time now) const {
  if (route_pauses_.empty()) return nullptr;  // the usual case: no hashing
  auto it = route_pauses_.find(route);
  if (it == route_pauses_.end() || it->second.until <= now) return nullptr;
  return &it->second;
}

QuotaEpoch CredentialQuota::Epoch(absl::string_view route) const {
  QuotaEpoch epoch;
  epoch.credential = minute_.epoch();
  if (!route_pauses_.empty()) {
    auto it = route_pauses_.find(route);
    if (it != route_pauses_.end()) epoch.route = it->second.epoch;
  }
  return epoch;
}

Admission CredentialQuota::Reserve(absl::string_view route, absl::Time now,
                                   absl::Time deadline) {
  Admission a;
  if (learn_ == Learn::kProbing) {
    if (now < probe_until_) {
      a.kind = Admission::Kind::kAdmitAgain;
      a.ready = probe_until_;
      a.awaits_probe = true;
      return a;
    }
    learn_ = Learn::kKnown;  // the probe's answer is overdue
  }
  if (const RoutePause* pause = FindRoutePause(route, now)) {
    a.ready = pause->until;
    a.kind = pause->until > deadline ? Admission::Kind::kRefused
                                     : Admission::Kind::kAdmitAgain;
    return a;
  }
  absl::Time ready = minute_.ReadyAt(now);
  if (hour_.has_value()) ready = std::max(ready, hour_->ReadyAt(now));
  a.ready = ready;
  if (ready > deadline) return a;  // kRefused, nothing taken
  minute_.Take();
  if (hour_.has_value()) hour_->Take();
  a.kind = Admission::Kind::kSend;
  a.epoch = Epoch(route);
  a.seq = ++grants_;
  if (learn_ == Learn::kUnknown) {
    learn_ = Learn::kProbing;
    probe_until_ = now + slow_start_wait_;
    ++probe_generation_;
    a.probe = true;
  }
  return a;
}

void CredentialQuota::PauseCredential(absl::Time until, absl::Time now) {
  minute_.PauseUntil(until, now);
}

void CredentialQuota::PauseRoute(absl::string_view route, absl::Time until,
                                 absl::Time now) {
  if (until <= now) return;
  auto it = route_pauses_.find(route);
  if (it != route_pauses_.end()) {
    if (until > it->second.until) it->second = {until, ++route_epochs_};
    return;
  }
  if (route_pauses_.size() >= kMaxRoutePauses) {
    absl::erase_if(route_pauses_,
                   [now](const auto& kv) { return kv.second.until <= now; });
  }
  if (route_pauses_.size() >= kMaxRoutePauses) {
    auto first = std::min_element(
        route_pauses_.begin(), route_pauses_.end(),
        [](const auto& a, const auto& b) { return a.second.until < b.second.until; });
    route_pauses_.erase(first);
  }
  route_pauses_.emplace(std::string(route), RoutePause{until, ++route_epochs_});
}

void CredentialQuota::Observe(std::optional<int64_t> limit_per_minute,
                              std::optional<int64_t> remaining,
                              std::optional<absl::Time> reset, uint64_t seq,
                              absl::Time now) {
  if (remaining.has_value() && seq > 0 && seq <= grants_) {
    // GitLab counted this call; those granted after it are still to come.
    *remaining -= static_cast<int64_t>(grants_ - seq);
  }
  minute_.Observe(limit_per_minute, remaining, reset, now);
}

}  // namespace gitlab_gateway::limits
