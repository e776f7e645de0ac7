#include "service/limits/redis_quota_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "service/limits/gcra_script.h"
#include "service/server/log.h"

namespace gitlab_gateway::limits {
namespace {

constexpr size_t kMaxEpochKeys = 10000;

int64_t Micros(absl::Duration d) { return absl::ToInt64Microseconds(d); }

// {a, b, c} integers, as the script answers.
bool Triple(const absl::StatusOr<RedisValue>& value, int64_t out[3]) {
  if (!value.ok() || value->type != RedisValue::Type::kArray ||
      value->elements.size() != 3) {
    return false;
  }
  for (int i = 0; i < 3; ++i) {
    if (value->elements[i].type != RedisValue::Type::kInteger) return false;
    out[i] = value->elements[i].integer;
  }
  return true;
}

QuotaStore::Admission ShuttingDown() {
  QuotaStore::Admission admission;
  admission.shutting_down = true;
  return admission;
}

absl::Status NotAnAnswer(const absl::StatusOr<RedisValue>& value) {
  if (!value.ok()) return value.status();
  return absl::InternalError("redis: unexpected answer to the quota script");
}

}  // namespace

RedisQuotaStore::RedisQuotaStore(Options options,
                                 std::unique_ptr<QuotaStore> fallback,
                                 Scheduler* scheduler, ModeHook on_mode)
    : options_(std::move(options)),
      fallback_(std::move(fallback)),
      scheduler_(scheduler),
      on_mode_(std::move(on_mode)),
      probe_backoff_(options_.probe_min) {
  RedisClient::Options client = options_.redis;
  client.scripts = {kGcraScript};
  client_ = std::make_unique<RedisClient>(std::move(client));
  if (on_mode_) on_mode_(true);
}

RedisQuotaStore::~RedisQuotaStore() { Shutdown(); }

void RedisQuotaStore::Shutdown() {
  stopping_ = true;
  std::unique_ptr<RedisClient> client;
  {
    absl::MutexLock lock(&client_mu_);
    client = std::move(client_);
  }
  client.reset();  // pending callbacks run now, with CANCELLED
}

std::vector<std::string> RedisQuotaStore::Args(std::string op, int64_t x,
                                               int64_t y, int64_t z) const {
  std::vector<std::string> args = {std::move(op), absl::StrCat(x),
                                   absl::StrCat(y), absl::StrCat(z),
                                   absl::StrCat(options_.limits.size())};
  for (const QuotaLimit& limit : options_.limits) {
    args.push_back(absl::StrCat(
        limit.per_second > 0 ? static_cast<int64_t>(1e6 / limit.per_second)
                             : 0));
    args.push_back(absl::StrCat(std::max(1.0, limit.burst)));
  }
  return args;
}

void RedisQuotaStore::Admit(const std::string& key,
                            const std::string& credential_class, absl::Time now,
                            absl::Time deadline, AdmitDone done) {
  if (stopping_) return done(ShuttingDown());
  if (!shared_) {
    return fallback_->Admit(key, credential_class, now, deadline,
                            std::move(done));
  }
  std::vector<std::string> args = Args(
      "admit", Micros(std::max(absl::ZeroDuration(), deadline - now)), 0, 0);
  auto callback =
      [this, key, credential_class, deadline,
       done = std::move(done)](absl::StatusOr<RedisValue> value) mutable {
        if (stopping_) return done(ShuttingDown());
        int64_t answer[3];
        if (!Triple(value, answer)) {
          EnterFallback(NotAnAnswer(value));
          return fallback_->Admit(key, credential_class, absl::Now(), deadline,
                                  std::move(done));
        }
        NoteEpoch(key, answer[2]);
        // The wait is measured from Redis' now; the answer arrives a round trip
        // later, so it is counted from here (late by at most that).
        Admission admission;
        admission.granted = answer[0] == 1;
        admission.ready = absl::Now() + absl::Microseconds(answer[1]);
        admission.epoch = Epoch(key);
        done(admission);
      };
  absl::ReaderMutexLock lock(&client_mu_);
  if (client_ == nullptr) return callback(absl::CancelledError("shut down"));
  client_->Eval(0, {options_.key_prefix + key}, std::move(args),
                std::move(callback));
}

uint64_t RedisQuotaStore::Epoch(const std::string& key) const {
  uint64_t shared = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = epochs_.find(key);
    if (it != epochs_.end()) shared = it->second;
  }
  // Both only grow: the sum changes whenever either pause starts.
  return shared + fallback_->Epoch(key);
}

void RedisQuotaStore::NoteEpoch(const std::string& key, int64_t epoch) {
  absl::MutexLock lock(&mu_);
  if (epochs_.size() >= kMaxEpochKeys && !epochs_.contains(key)) {
    epochs_.clear();
  }
  uint64_t& known = epochs_[key];
  known = std::max<uint64_t>(known, static_cast<uint64_t>(epoch));
}

void RedisQuotaStore::Pause(const std::string& key,
                            const std::string& credential_class,
                            absl::Time until, absl::Time now) {
  // Locally first: this replica's waiting calls see a new epoch at once.
  fallback_->Pause(key, credential_class, until, now);
  if (until > now) Send(key, Args("pause", Micros(until - now), 0, 0));
}

void RedisQuotaStore::Observe(const std::string& key,
                              const std::string& credential_class,
                              std::optional<int64_t> limit_per_minute,
                              std::optional<int64_t> remaining,
                              std::optional<absl::Time> reset, absl::Time now) {
  fallback_->Observe(key, credential_class, limit_per_minute, remaining, reset,
                     now);
  int64_t reset_in = -1;
  if (reset.has_value() && *reset > now) reset_in = Micros(*reset - now);
  Send(key, Args("observe", limit_per_minute.value_or(-1),
                 remaining.value_or(-1), reset_in));
}

void RedisQuotaStore::Send(const std::string& key,
                           std::vector<std::string> args) {
  if (stopping_ || !shared_) return;
  auto callback = [this, key](absl::StatusOr<RedisValue> value) {
    if (stopping_) return;
    int64_t answer[3];
    if (!Triple(value, answer)) return EnterFallback(NotAnAnswer(value));
    NoteEpoch(key, answer[2]);
  };
  absl::ReaderMutexLock lock(&client_mu_);
  if (client_ == nullptr) return;
  client_->Eval(0, {options_.key_prefix + key}, std::move(args),
                std::move(callback));
}

void RedisQuotaStore::EnterFallback(const absl::Status& why) {
  if (stopping_ || !shared_.exchange(false)) return;
  LogLine("WARNING",
          "shared quota: Redis %s:%d unusable (%s); each credential now uses "
          "this replica's local share of its limit until Redis answers again",
          options_.redis.address.host, options_.redis.address.port,
          std::string(why.message()));
  if (on_mode_) on_mode_(false);
  absl::Duration wait;
  {
    absl::MutexLock lock(&mu_);
    probe_backoff_ = options_.probe_min;
    wait = probe_backoff_;
  }
  scheduler_->RunAt(absl::Now() + wait, [this](bool stopping) {
    if (!stopping) Probe();
  });
}

void RedisQuotaStore::Probe() {
  if (stopping_) return;
  auto callback = [this](absl::StatusOr<RedisValue> value) {
    if (stopping_) return;
    if (value.ok() && value->type == RedisValue::Type::kStatus) {
      if (!shared_.exchange(true)) {
        LogLine("INFO", "shared quota: Redis %s:%d answers again; quota shared",
                options_.redis.address.host, options_.redis.address.port);
        if (on_mode_) on_mode_(true);
      }
      return;
    }
    absl::Duration wait;
    {
      absl::MutexLock lock(&mu_);
      probe_backoff_ = std::min(probe_backoff_ * 2, options_.probe_max);
      wait = probe_backoff_;
    }
    scheduler_->RunAt(absl::Now() + wait, [this](bool stopping) {
      if (!stopping) Probe();
    });
  };
  absl::ReaderMutexLock lock(&client_mu_);
  if (client_ == nullptr) return;
  client_->Command({"PING"}, std::move(callback));
}

}  // namespace gitlab_gateway::limits
