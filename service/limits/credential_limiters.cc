#include "service/limits/credential_limiters.h"

#include <utility>
#include <vector>

#include "absl/time/clock.h"

namespace gitlab_gateway::limits {
namespace {

constexpr size_t kEvictAbove = 1000;
constexpr absl::Duration kIdle = absl::Minutes(10);

}  // namespace

CredentialLimiters::CredentialLimiters(LimiterOptions options,
                                       Scheduler* scheduler,
                                       PausedHook on_paused)
    : options_(options), scheduler_(scheduler), on_paused_(std::move(on_paused)) {}

CredentialLimiters::Entry& CredentialLimiters::Get(
    const std::string& key, const std::string& credential_class,
    absl::Time now) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    it = entries_
             .emplace(key, Entry{TokenBucket(options_.per_minute / 60.0,
                                             options_.burst, now),
                                 credential_class, now})
             .first;
  }
  it->second.last_used = now;
  return it->second;
}

CredentialLimiters::Reservation CredentialLimiters::Reserve(
    const std::string& key, const std::string& credential_class,
    absl::Time now, absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  if (++reservations_ % 1024 == 0 && entries_.size() > kEvictAbove) Evict(now);
  Entry& entry = Get(key, credential_class, now);
  Reservation r;
  std::optional<absl::Time> ready = entry.bucket.Reserve(now, deadline, &r.ready);
  r.granted = ready.has_value();
  r.epoch = entry.bucket.epoch();
  return r;
}

uint64_t CredentialLimiters::Epoch(const std::string& key) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? 0 : it->second.bucket.epoch();
}

void CredentialLimiters::Pause(const std::string& key,
                               const std::string& credential_class,
                               absl::Time until, absl::Time now) {
  absl::MutexLock lock(&mu_);
  Entry& entry = Get(key, credential_class, now);
  entry.bucket.PauseUntil(until, now);
  TrackPause(key, entry, now);
}

void CredentialLimiters::Observe(const std::string& key,
                                 const std::string& credential_class,
                                 std::optional<int64_t> limit_per_minute,
                                 std::optional<int64_t> remaining,
                                 std::optional<absl::Time> reset,
                                 absl::Time now) {
  absl::MutexLock lock(&mu_);
  Entry& entry = Get(key, credential_class, now);
  entry.bucket.Observe(limit_per_minute, remaining, reset, now);
  TrackPause(key, entry, now);
}

void CredentialLimiters::TrackPause(const std::string& key, Entry& entry,
                                    absl::Time now) {
  if (entry.counted_paused || !entry.bucket.paused(now)) return;
  entry.counted_paused = true;
  if (on_paused_) on_paused_(entry.credential_class, +1);
  scheduler_->RunAt(entry.bucket.paused_until(),
                    [this, key](bool shutting_down) {
                      if (!shutting_down) CheckPauseEnded(key);
                    });
}

void CredentialLimiters::CheckPauseEnded(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.counted_paused) return;
  absl::Time now = absl::Now();
  if (it->second.bucket.paused(now)) {  // extended meanwhile
    scheduler_->RunAt(it->second.bucket.paused_until(),
                      [this, key](bool shutting_down) {
                        if (!shutting_down) CheckPauseEnded(key);
                      });
    return;
  }
  it->second.counted_paused = false;
  if (on_paused_) on_paused_(it->second.credential_class, -1);
}

void CredentialLimiters::Evict(absl::Time now) {
  std::vector<std::string> idle;
  for (const auto& [key, entry] : entries_) {
    if (now - entry.last_used > kIdle && !entry.counted_paused) {
      idle.push_back(key);
    }
  }
  for (const std::string& key : idle) entries_.erase(key);
}

size_t CredentialLimiters::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace gitlab_gateway::limits
