// gg_soak: the gateway binary against a misbehaving upstream (FaultyUpstream,
// every case of the README's "Fault cases" table), reported, not asserted.
//
//   --mode soak    mixed load with faults for --duration (default 10 min):
//                  Execute and BatchExecute calls over every fault case at
//                  --rate calls/s plus a healthy caller; every --interval one
//                  line with the gateway's RSS, open fds and threads, calls,
//                  wrong answers and the healthy caller's latency.
//   --mode faults  --calls (default 100,000) spread over the fault cases: each
//                  answered exactly once with the documented code; the healthy
//                  caller's p99 alone, beside the same rate of healthy calls,
//                  and beside the faults; RSS before, at peak, after.
//
//   gg_soak --gateway build/service/gitlab-gateway --mode soak --duration 3m
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/soak/fault_load.h"
#include "bench/soak/gateway_process.h"
#include "tests/faults/faulty_upstream.h"

ABSL_FLAG(std::string, gateway, "build/service/gitlab-gateway",
          "the gitlab-gateway binary");
ABSL_FLAG(std::string, mode, "soak", "soak or faults");
ABSL_FLAG(absl::Duration, duration, absl::Minutes(10), "soak: how long");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(30), "soak: report every");
ABSL_FLAG(int64_t, calls, 100000, "faults: fault calls in all");
ABSL_FLAG(double, rate, 0, "fault calls per second (0: soak 300, faults 1000)");
ABSL_FLAG(int, concurrency, 40, "Execute threads making fault calls");
ABSL_FLAG(int, streams, 2, "BatchExecute threads (100 items per stream)");
ABSL_FLAG(absl::Duration, short_timeout, absl::Milliseconds(200),
          "Request.timeout of the cases that run into it");
ABSL_FLAG(absl::Duration, long_timeout, absl::Seconds(3),
          "Request.timeout of the other cases");
ABSL_FLAG(absl::Duration, healthy_pace, absl::Milliseconds(5),
          "pause between the healthy caller's calls");
ABSL_FLAG(absl::Duration, control, absl::Seconds(20),
          "faults: length of each reference phase");
ABSL_FLAG(std::string, only, "",
          "only the fault cases whose name contains this (e.g. TLS)");
ABSL_FLAG(std::string, skip, "",
          "leave out the fault cases whose name contains this");

namespace gitlab_gateway::bench {
namespace {

using testing::FaultyUpstream;

std::vector<std::string> GatewayFlags(const std::string& gitlab_url) {
  return {"--listen", "127.0.0.1:0", "--metrics_listen", "off", "--gitlab_url",
          gitlab_url, "--max_response_mb", "1",
          // Faults are measured, not GitLab.com's rate limit; the window
          // keeps streams from holding all 64 upstream slots.
          "--rate_limit_per_minute", "0", "--batch_window", "8"};
}

std::string Describe(const ProcessSample& s) {
  return absl::StrFormat("rss %.1f MB, %d fds, %d threads", s.rss_mb, s.fds,
                         s.threads);
}

// The sample, plus the CPU share used since `before` over `wall`.
std::string Describe(const ProcessSample& s, const ProcessSample& before,
                     absl::Duration wall) {
  return absl::StrFormat(
      "%s, cpu %.0f%%", Describe(s),
      100 * (s.cpu_s - before.cpu_s) / absl::ToDoubleSeconds(wall));
}

std::string Describe(const LatencyLog::Summary& s) {
  return absl::StrFormat("%d calls, p50 %.2f ms, p99 %.2f ms, max %.1f ms",
                         s.count, s.p50_ms, s.p99_ms, s.max_ms);
}

FaultLoad::Options LoadOptions(double rate) {
  FaultLoad::Options o;
  o.concurrency = absl::GetFlag(FLAGS_concurrency);
  o.streams = absl::GetFlag(FLAGS_streams);
  o.rate = rate;
  o.timeouts.short_timeout = absl::GetFlag(FLAGS_short_timeout);
  o.timeouts.long_timeout = absl::GetFlag(FLAGS_long_timeout);
  o.only = absl::GetFlag(FLAGS_only);
  o.skip = absl::GetFlag(FLAGS_skip);
  return o;
}

void PrintTallies(const FaultLoad& load) {
  for (const auto& [name, t] : load.tallies()) {
    std::printf("  %-52s %8lld calls %6lld wrong%s%s\n", name.c_str(),
                static_cast<long long>(t.calls),
                static_cast<long long>(t.wrong), t.wrong ? ": " : "",
                t.first_wrong.substr(0, 300).c_str());
  }
}

// Runs a healthy caller beside `phase` and returns its latencies.
template <typename Phase>
LatencyLog::Summary Beside(int port, Phase phase) {
  HealthyCaller healthy(port, absl::GetFlag(FLAGS_healthy_pace));
  healthy.Start();
  phase();
  healthy.Stop();
  if (healthy.failures() > 0) {
    std::printf("  healthy caller: %lld of %lld calls FAILED\n",
                static_cast<long long>(healthy.failures()),
                static_cast<long long>(healthy.calls()));
  }
  return healthy.latencies().Take();
}

int Faults(GatewayProcess& plain, GatewayProcess& https) {
  const double rate =
      absl::GetFlag(FLAGS_rate) > 0 ? absl::GetFlag(FLAGS_rate) : 1000;
  const int64_t calls = absl::GetFlag(FLAGS_calls);
  const absl::Duration control = absl::GetFlag(FLAGS_control);
  // Warm up, then let the gateway settle: the baseline.
  Beside(plain.port(), [] { absl::SleepFor(absl::Seconds(2)); });
  absl::SleepFor(absl::Seconds(2));
  ProcessSample base = SampleProcess(plain.pid());
  std::printf("baseline: %s\n", Describe(base).c_str());

  LatencyLog::Summary alone =
      Beside(plain.port(), [&] { absl::SleepFor(control); });
  std::printf("healthy caller alone:                 %s\n",
              Describe(alone).c_str());

  FaultLoad::Options healthy_options = LoadOptions(rate);
  healthy_options.healthy_only = true;
  FaultLoad reference(plain.port(), https.port(), healthy_options);
  LatencyLog::Summary beside_healthy = Beside(plain.port(), [&] {
    reference.Run(static_cast<int64_t>(rate * absl::ToDoubleSeconds(control)),
                  nullptr);
  });
  std::printf("beside %.0f healthy calls/s:          %s\n", rate,
              Describe(beside_healthy).c_str());

  FaultLoad load(plain.port(), https.port(), LoadOptions(rate));
  ProcessSample peak = base;
  std::atomic<bool> done{false};
  std::thread sampler([&] {
    while (!done.load()) {
      ProcessSample s = SampleProcess(plain.pid());
      if (s.rss_mb > peak.rss_mb) peak.rss_mb = s.rss_mb;
      peak.fds = std::max(peak.fds, s.fds);
      peak.threads = std::max(peak.threads, s.threads);
      absl::SleepFor(absl::Milliseconds(200));
    }
  });
  absl::Time start = absl::Now();
  LatencyLog::Summary beside_faults =
      Beside(plain.port(), [&] { load.Run(calls, nullptr); });
  absl::Duration took = absl::Now() - start;
  done = true;
  sampler.join();
  std::printf(
      "beside %lld fault calls (%.0f/s):  %s\n", static_cast<long long>(calls),
      calls / absl::ToDoubleSeconds(took), Describe(beside_faults).c_str());
  std::printf(
      "fault calls: %lld answered of %lld, %lld wrong, in %s\n",
      static_cast<long long>(load.answered()), static_cast<long long>(calls),
      static_cast<long long>(load.wrong()), absl::FormatDuration(took).c_str());
  PrintTallies(load);
  std::printf(
      "p99 beside faults / alone: %.2fx; / beside healthy load: %.2fx "
      "(goal < 2x)\n",
      beside_faults.p99_ms / alone.p99_ms,
      beside_faults.p99_ms / beside_healthy.p99_ms);
  std::printf("RSS: baseline %.1f MB, peak %.1f MB (fds %d, threads %d)\n",
              base.rss_mb, peak.rss_mb, peak.fds, peak.threads);
  for (int seconds : {2, 10}) {
    absl::SleepFor(absl::Seconds(seconds == 2 ? 2 : 8));
    std::printf("%2d s after: %s\n", seconds,
                Describe(SampleProcess(plain.pid())).c_str());
  }
  return load.answered() == calls && load.wrong() == 0 ? 0 : 1;
}

int Soak(GatewayProcess& plain, GatewayProcess& https) {
  const double rate =
      absl::GetFlag(FLAGS_rate) > 0 ? absl::GetFlag(FLAGS_rate) : 300;
  const absl::Duration duration = absl::GetFlag(FLAGS_duration);
  const absl::Duration interval = absl::GetFlag(FLAGS_interval);
  FaultLoad load(plain.port(), https.port(), LoadOptions(rate));
  HealthyCaller healthy(plain.port(), absl::GetFlag(FLAGS_healthy_pace));
  std::atomic<bool> stop{false};
  std::printf(
      "soak: %s at %.0f fault calls/s over %zu cases, report every %s\n",
      absl::FormatDuration(duration).c_str(), rate, load.cases().size(),
      absl::FormatDuration(interval).c_str());
  std::printf("%-6s | %-45s | %-45s | %8s %5s | healthy caller\n", "t",
              "gateway (plain)", "gateway (https)", "answered", "wrong");
  healthy.Start();
  absl::Time start = absl::Now();
  std::thread runner([&] { load.Run(0, &stop); });
  std::vector<ProcessSample> samples;
  ProcessSample plain_before = SampleProcess(plain.pid());
  ProcessSample https_before = SampleProcess(https.pid());
  for (absl::Time next = start + interval; next <= start + duration;
       next += interval) {
    absl::SleepFor(next - absl::Now());
    ProcessSample s = SampleProcess(plain.pid());
    ProcessSample t = SampleProcess(https.pid());
    samples.push_back(s);
    std::printf(
        "%-6s | %-45s | %-45s | %8lld %5lld | %s\n",
        absl::FormatDuration(absl::Trunc(next - start, absl::Seconds(1)))
            .c_str(),
        Describe(s, plain_before, interval).c_str(),
        Describe(t, https_before, interval).c_str(),
        static_cast<long long>(load.answered()),
        static_cast<long long>(load.wrong()),
        Describe(healthy.latencies().Take()).c_str());
    std::fflush(stdout);
    plain_before = s;
    https_before = t;
  }
  stop = true;
  runner.join();
  healthy.Stop();
  absl::SleepFor(absl::Seconds(5));
  ProcessSample after = SampleProcess(plain.pid());
  std::printf("5 s after the load: %s\n", Describe(after).c_str());
  std::printf("healthy caller: %lld calls, %lld failed\n",
              static_cast<long long>(healthy.calls()),
              static_cast<long long>(healthy.failures()));
  PrintTallies(load);
  if (samples.size() >= 2) {
    // Flat: the second half of the run holds no more than the first.
    size_t half = samples.size() / 2;
    ProcessSample first_max, second_max;
    for (size_t i = 0; i < samples.size(); ++i) {
      ProcessSample& m = i < half ? first_max : second_max;
      m.rss_mb = std::max(m.rss_mb, samples[i].rss_mb);
      m.fds = std::max(m.fds, samples[i].fds);
      m.threads = std::max(m.threads, samples[i].threads);
    }
    std::printf("max over the first half: %s; over the second half: %s\n",
                Describe(first_max).c_str(), Describe(second_max).c_str());
  }
  return load.wrong() == 0 && healthy.failures() == 0 ? 0 : 1;
}

int Main() {
  signal(SIGPIPE, SIG_IGN);
  FaultyUpstream upstream;
  const std::string binary = absl::GetFlag(FLAGS_gateway);
  auto plain = GatewayProcess::Start(binary, GatewayFlags(upstream.base_url()));
  auto https =
      GatewayProcess::Start(binary, GatewayFlags(upstream.https_base_url()));
  if (!plain.ok() || !https.ok()) {
    std::fprintf(stderr, "gg_soak: %s %s\n", plain.status().ToString().c_str(),
                 https.status().ToString().c_str());
    return 2;
  }
  int rc = absl::GetFlag(FLAGS_mode) == "faults" ? Faults(**plain, **https)
                                                 : Soak(**plain, **https);
  int status = (*plain)->Stop();
  std::printf("gateway exit on SIGTERM: %d\n",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return rc;
}

}  // namespace
}  // namespace gitlab_gateway::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return gitlab_gateway::bench::Main();
}
