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
             .emplace(key, Entry{CredentialQuota(options_, now),
                                 credential_class, now, false, {}})
             .first;
  }
  it->second.last_used = now;
  return it->second;
}

Admission CredentialLimiters::Reserve(const std::string& key,
                                      const std::string& credential_class,
                                      absl::string_view route, absl::Time now,
                                      absl::Time deadline) {
  Admission a;
  uint64_t generation = 0;
  absl::Time probe_until;
  {
    absl::MutexLock lock(&mu_);
    if (++reservations_ % 1024 == 0 && entries_.size() > kEvictAbove) {
      Evict(now);
    }
    CredentialQuota& quota = Get(key, credential_class, now).quota;
    a = quota.Reserve(route, now, deadline);
    if (a.probe) {
      generation = quota.probe_generation();
      probe_until = quota.probe_until();
    }
  }
  if (a.probe) {
    // The bound: a probe whose answer never comes releases the others.
    scheduler_->RunAt(probe_until, [this, key, generation](bool shutting_down) {
      if (!shutting_down) EndProbeOf(key, generation);
    });
  }
  return a;
}

QuotaEpoch CredentialLimiters::Epoch(const std::string& key,
                                     absl::string_view route) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  return it == entries_.end() ? QuotaEpoch{} : it->second.quota.Epoch(route);
}

bool CredentialLimiters::AwaitProbe(const std::string& key,
                                    absl::AnyInvocable<void()> wake) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.quota.probing()) return false;
  if (it->second.probe_waiters.size() < kMaxProbeWaiters) {
    it->second.probe_waiters.push_back(std::move(wake));
  }
  return true;
}

void CredentialLimiters::EndProbe(const std::string& key) {
  EndProbeOf(key, std::nullopt);
}

void CredentialLimiters::EndProbeOf(const std::string& key,
                                    std::optional<uint64_t> generation) {
  std::vector<absl::AnyInvocable<void()>> waiters;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || !it->second.quota.probing()) return;
    if (generation.has_value() &&
        *generation != it->second.quota.probe_generation()) {
      return;
    }
    it->second.quota.EndProbe();
    waiters.swap(it->second.probe_waiters);
  }
  if (waiters.empty()) return;
  // Not on the caller's thread (the engine's): the waiters reserve and
  // maybe send, a cost in proportion to their number.
  scheduler_->RunAt(absl::Now(),
                    [waiters = std::move(waiters)](bool shutting_down) mutable {
                      if (shutting_down) return;  // their own timers finish them
                      for (auto& wake : waiters) wake();
                    });
}

void CredentialLimiters::Pause(const std::string& key,
                               const std::string& credential_class,
                               PauseScope scope, absl::string_view route,
                               absl::Time until, absl::Time now) {
  absl::MutexLock lock(&mu_);
  Entry& entry = Get(key, credential_class, now);
  if (scope == PauseScope::kRoute) {
    entry.quota.PauseRoute(route, until, now);
    return;
  }
  entry.quota.PauseCredential(until, now);
  TrackPause(key, entry, now);
}

void CredentialLimiters::Observe(const std::string& key,
                                 const std::string& credential_class,
                                 std::optional<int64_t> limit_per_minute,
                                 std::optional<int64_t> remaining,
                                 std::optional<absl::Time> reset, uint64_t seq,
                                 absl::Time now) {
  absl::MutexLock lock(&mu_);
  Entry& entry = Get(key, credential_class, now);
  entry.quota.Observe(limit_per_minute, remaining, reset, seq, now);
  TrackPause(key, entry, now);
}

void CredentialLimiters::TrackPause(const std::string& key, Entry& entry,
                                    absl::Time now) {
  if (entry.counted_paused || !entry.quota.paused(now)) return;
  entry.counted_paused = true;
  if (on_paused_) on_paused_(entry.credential_class, +1);
  scheduler_->RunAt(entry.quota.paused_until(),
                    [this, key](bool shutting_down) {
                      if (!shutting_down) CheckPauseEnded(key);
                    });
}

void CredentialLimiters::CheckPauseEnded(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.counted_paused) return;
  absl::Time now = absl::Now();
  if (it->second.quota.paused(now)) {  // extended meanwhile
    scheduler_->RunAt(it->second.quota.paused_until(),
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
    if (now - entry.last_used > kIdle && !entry.counted_paused &&
        !entry.quota.probing()) {
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
