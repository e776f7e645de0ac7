// gg_curl_direct: the "no gateway" reference. A curl-multi client doing the
// same GETs the gateway would do, straight at the fake GitLab, with the same
// connection policy as the engine (keep-alive; HTTP/2 multiplexed with
// PIPEWAIT over TLS). Prints one line of key=value results.
//
//   gg_curl_direct --url http://127.0.0.1:8080/api/v4/projects/42
//       --concurrency 64 --seconds 5 [--requests N] [--cacert cert.pem]
//       [--warmup N]  (N unmeasured requests first, to open the connections)
#include <curl/curl.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string Flag(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

struct Slot {
  CURL* easy = nullptr;
  Clock::time_point started;
  std::string body;
};

size_t OnWrite(char* data, size_t size, size_t n, void* userp) {
  static_cast<Slot*>(userp)->body.append(data, size * n);
  return size * n;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string url = Flag(argc, argv, "--url", "");
  const int concurrency =
      std::atoi(Flag(argc, argv, "--concurrency", "64").c_str());
  const double seconds = std::atof(Flag(argc, argv, "--seconds", "5").c_str());
  const long limit = std::atol(Flag(argc, argv, "--requests", "0").c_str());
  const std::string cacert = Flag(argc, argv, "--cacert", "");
  const std::string token = Flag(argc, argv, "--token", "bench-token");
  const long warmup = std::atol(Flag(argc, argv, "--warmup", "0").c_str());
  if (url.empty()) {
    std::fprintf(stderr, "curl_direct: --url is required\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
                    static_cast<long>(concurrency));
  const std::string auth = "PRIVATE-TOKEN: " + token;
  curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
  headers = curl_slist_append(headers, "Expect:");

  std::vector<Slot> slots(static_cast<size_t>(concurrency));
  std::vector<double> latencies_us;
  latencies_us.reserve(1 << 20);
  long errors = 0;

  auto start = [&](Slot& slot) {
    if (slot.easy == nullptr) {
      slot.easy = curl_easy_init();
      curl_easy_setopt(slot.easy, CURLOPT_URL, url.c_str());
      curl_easy_setopt(slot.easy, CURLOPT_PRIVATE, &slot);
      curl_easy_setopt(slot.easy, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(slot.easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
      curl_easy_setopt(slot.easy, CURLOPT_PIPEWAIT, 1L);
      curl_easy_setopt(slot.easy, CURLOPT_TCP_NODELAY, 1L);
      curl_easy_setopt(slot.easy, CURLOPT_USERAGENT, "gg-curl-direct");
      curl_easy_setopt(slot.easy, CURLOPT_HTTPHEADER, headers);
      curl_easy_setopt(slot.easy, CURLOPT_WRITEFUNCTION, &OnWrite);
      curl_easy_setopt(slot.easy, CURLOPT_WRITEDATA, &slot);
      if (!cacert.empty())
        curl_easy_setopt(slot.easy, CURLOPT_CAINFO, cacert.c_str());
    }
    slot.body.clear();
    slot.started = Clock::now();
    curl_multi_add_handle(multi, slot.easy);
  };

  // Keeps `concurrency` requests in flight until `limit` requests were
  // started or `seconds` passed, whichever comes first; returns the count.
  auto phase = [&](long limit, double seconds, bool record) {
    long started = 0, done = 0;
    const Clock::time_point end =
        Clock::now() +
        std::chrono::microseconds(static_cast<long>(seconds * 1e6));
    auto more = [&] {
      return (limit <= 0 || started < limit) && Clock::now() < end;
    };
    for (Slot& slot : slots) {
      if (!more()) break;
      start(slot);
      ++started;
    }
    int running = 1;
    while (done < started) {
      curl_multi_perform(multi, &running);
      int pending;
      while (CURLMsg* msg = curl_multi_info_read(multi, &pending)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Slot* slot = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &slot);
        long code = 0;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
        CURLcode result = msg->data.result;
        curl_multi_remove_handle(multi, msg->easy_handle);
        ++done;
        if (result != CURLE_OK || code != 200) {
          if (errors++ == 0) {
            std::fprintf(stderr, "curl_direct: %s (HTTP %ld)\n",
                         curl_easy_strerror(result), code);
          }
        } else if (record) {
          latencies_us.push_back(std::chrono::duration<double, std::micro>(
                                     Clock::now() - slot->started)
                                     .count());
        }
        if (more()) {
          start(*slot);
          ++started;
        }
      }
      if (done < started) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    }
    return done;
  };

  // Warm-up: opens the connections a long-lived client would already have.
  if (warmup > 0) phase(warmup, 30, false);
  errors = 0;
  const Clock::time_point begin = Clock::now();
  const double cpu_begin = CpuSeconds();
  const long done = phase(limit, seconds, true);
  const double wall =
      std::chrono::duration<double>(Clock::now() - begin).count();
  const double cpu = CpuSeconds() - cpu_begin;
  double p50 = Percentile(latencies_us, 0.50);
  double p99 = Percentile(latencies_us, 0.99);
  std::printf(
      "requests=%ld errors=%ld seconds=%.3f rps=%.1f p50_us=%.1f p99_us=%.1f "
      "cpu_us_per_req=%.2f\n",
      done, errors, wall, done / wall, p50, p99, done ? cpu * 1e6 / done : 0.0);
  for (Slot& slot : slots) {
    if (slot.easy != nullptr) curl_easy_cleanup(slot.easy);
  }
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  return errors == 0 ? 0 : 1;
}
