// gg_quota_bench: the per-credential limiter, embedded (LocalQuotaStore)
// and shared in Redis (RedisQuotaStore + kGcraScript), in the same run:
//
//   accuracy  3 replicas each offered the whole quota (3x together) for
//             --seconds; slots granted inside the window vs. the quota
//             (burst + rate x seconds). Embedded: each replica has its own
//             bucket at the full rate (today's default), and at rate / 3
//             (the Redis fallback's share).
//   latency   one admission at a time (--admissions), always granted at
//             once: time from Admit to its answer, p50/p99, embedded vs Redis.
//   pipelined 64 admissions outstanding: admissions per second.
//
// Starts its own redis-server (Debian's /usr/bin/redis-server) on a free
// loopback port. Prints a Markdown table.
//   build-bench/bench/gg_quota_bench --seconds 10 --admissions 20000

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "service/limits/local_quota_store.h"
#include "service/limits/redis_quota_store.h"
#include "service/limits/scheduler.h"
#include "tests/support/redis_server.h"

ABSL_FLAG(double, rate, 100, "quota: calls per second per credential");
ABSL_FLAG(double, burst, 10, "quota burst");
ABSL_FLAG(int, seconds, 10, "accuracy window");
ABSL_FLAG(int, admissions, 20000, "sequential admissions for latency");

namespace gg = gitlab_gateway;
using gg::limits::QuotaStore;

namespace {

constexpr int kReplicas = 3;

std::unique_ptr<QuotaStore> Local(double per_second, double burst,
                                  gg::limits::Scheduler* scheduler) {
  gg::limits::LimiterOptions options;
  options.per_minute = per_second * 60;
  options.burst = burst;
  return std::make_unique<gg::limits::LocalQuotaStore>(options, scheduler);
}

std::unique_ptr<QuotaStore> Shared(int port, double per_second, double burst,
                                   gg::limits::Scheduler* scheduler) {
  gg::limits::RedisQuotaStore::Options options;
  options.redis.address.host = "127.0.0.1";
  options.redis.address.port = port;
  options.redis.timeout = absl::Seconds(1);  // measure, do not fall back
  options.limits = {{per_second, burst}};
  return std::make_unique<gg::limits::RedisQuotaStore>(
      std::move(options),
      Local(per_second / kReplicas, std::max(1.0, burst / kReplicas),
            scheduler),
      scheduler);
}

// Each replica offered `rate` per second (open loop, deadline 1 s) for
// `seconds`; returns the slots granted inside [start, start + seconds).
int Accuracy(std::vector<QuotaStore*> replicas, double rate, int seconds,
             const std::string& key) {
  std::atomic<int> inside{0};
  absl::Time start = absl::Now() + absl::Milliseconds(100);
  absl::Time end = start + absl::Seconds(seconds);
  std::vector<std::thread> threads;
  std::atomic<int> outstanding{0};
  for (QuotaStore* store : replicas) {
    threads.emplace_back([&, store] {
      const absl::Duration every = absl::Seconds(1.0 / rate);
      for (int i = 0;; ++i) {
        absl::Time at = start + every * i;
        if (at >= end) break;
        absl::SleepFor(at - absl::Now());
        absl::Time now = absl::Now();
        ++outstanding;
        store->Admit(key, "default", now, now + absl::Seconds(1),
                     [&, end](QuotaStore::Admission a) {
                       if (a.granted && a.ready < end) ++inside;
                       --outstanding;
                     });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (outstanding.load() > 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  return inside.load();
}

struct Latency {
  double p50_us = 0, p99_us = 0, pipelined_per_s = 0;
};

Latency Measure(QuotaStore& store, int n) {
  std::vector<double> us;
  us.reserve(n);
  for (int i = 0; i < n; ++i) {
    absl::Notification done;
    absl::Time t0 = absl::Now();
    store.Admit("latency", "default", t0, t0 + absl::Seconds(1),
                [&](QuotaStore::Admission) { done.Notify(); });
    done.WaitForNotification();
    us.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
  }
  std::sort(us.begin(), us.end());
  Latency out;
  out.p50_us = us[us.size() / 2];
  out.p99_us = us[us.size() * 99 / 100];
  // 64 outstanding at once.
  absl::Mutex mu;
  int in_flight = 0;
  absl::Time t0 = absl::Now();
  absl::BlockingCounter all(n);
  for (int i = 0; i < n; ++i) {
    {
      absl::MutexLock lock(&mu);
      auto room = [&] { return in_flight < 64; };
      mu.Await(absl::Condition(&room));
      ++in_flight;
    }
    absl::Time now = absl::Now();
    store.Admit("pipelined", "default", now, now + absl::Seconds(1),
                [&](QuotaStore::Admission) {
                  {
                    absl::MutexLock lock(&mu);
                    --in_flight;
                  }
                  all.DecrementCount();
                });
  }
  all.Wait();
  out.pipelined_per_s = n / absl::ToDoubleSeconds(absl::Now() - t0);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const double rate = absl::GetFlag(FLAGS_rate);
  const double burst = absl::GetFlag(FLAGS_burst);
  const int seconds = absl::GetFlag(FLAGS_seconds);
  const int n = absl::GetFlag(FLAGS_admissions);
  gg::testing::RedisServer redis;
  if (absl::Status s = redis.Start(); !s.ok()) {
    std::fprintf(stderr, "redis-server: %s\n",
                 std::string(s.message()).c_str());
    return 1;
  }
  gg::limits::Scheduler scheduler;
  const int quota = static_cast<int>(burst + rate * seconds);

  std::vector<std::unique_ptr<QuotaStore>> stores;
  auto three = [&](auto make) {
    std::vector<QuotaStore*> out;
    for (int i = 0; i < kReplicas; ++i) {
      stores.push_back(make());
      out.push_back(stores.back().get());
    }
    return out;
  };
  int own = Accuracy(three([&] { return Local(rate, burst, &scheduler); }),
                     rate, seconds, "own");
  int share =
      Accuracy(three([&] {
                 return Local(rate / kReplicas,
                              std::max(1.0, burst / kReplicas), &scheduler);
               }),
               rate, seconds, "share");
  int shared = Accuracy(
      three([&] { return Shared(redis.port(), rate, burst, &scheduler); }),
      rate, seconds, "shared");
  // Uneven load: one replica of three is offered 3x the quota, the others
  // nothing. The local share leaves two thirds of the quota unused.
  auto first = [](std::vector<QuotaStore*> v) {
    return std::vector<QuotaStore*>{v.front()};
  };
  int share_uneven =
      Accuracy(first(three([&] {
                 return Local(rate / kReplicas,
                              std::max(1.0, burst / kReplicas), &scheduler);
               })),
               rate * kReplicas, seconds, "share_uneven");
  int shared_uneven = Accuracy(
      first(
          three([&] { return Shared(redis.port(), rate, burst, &scheduler); })),
      rate * kReplicas, seconds, "shared_uneven");

  auto local = Local(1e9, 1e9, &scheduler);
  auto remote = Shared(redis.port(), 1e9, 1e9, &scheduler);
  Latency l = Measure(*local, n);
  Latency r = Measure(*remote, n);
  for (auto& s : stores) {
    if (auto* rs = dynamic_cast<gg::limits::RedisQuotaStore*>(s.get())) {
      rs->Shutdown();
    }
  }
  remote.reset();

  std::printf(
      "quota %d calls in %d s (%.0f/s, burst %.0f); %d replicas each "
      "offered %.0f/s\n\n",
      quota, seconds, rate, burst, kReplicas, rate);
  std::printf(
      "| limiter | granted in window | vs quota | admission p50 | "
      "admission p99 | admissions/s (64 outstanding) |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: |\n");
  auto pct = [&](int got) { return 100.0 * (got - quota) / quota; };
  std::printf(
      "| embedded, own bucket per replica | %d | %+.1f%% | %.1f µs | "
      "%.1f µs | %.0f |\n",
      own, pct(own), l.p50_us, l.p99_us, l.pipelined_per_s);
  std::printf("| embedded, rate / %d per replica | %d | %+.1f%% | | | |\n",
              kReplicas, share, pct(share));
  std::printf(
      "| Redis (GCRA, EVALSHA) | %d | %+.1f%% | %.1f µs | %.1f µs | "
      "%.0f |\n",
      shared, pct(shared), r.p50_us, r.p99_us, r.pipelined_per_s);
  std::printf(
      "| uneven: 1 of %d replicas offered %.0f/s, rate / %d | %d | "
      "%+.1f%% | | | |\n",
      kReplicas, rate * kReplicas, kReplicas, share_uneven, pct(share_uneven));
  std::printf(
      "| uneven: 1 of %d replicas offered %.0f/s, Redis | %d | "
      "%+.1f%% | | | |\n",
      kReplicas, rate * kReplicas, shared_uneven, pct(shared_uneven));
  return 0;
}
