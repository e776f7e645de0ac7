// Cost of the metrics route label per call: RouteCatalog::Match and
// RouteTemplate over every template of the documented catalog, filled with
// ids, encoded paths, refs and SHAs, and over paths outside the catalog
// (generic fallback). Single thread; prints thread-CPU ns per call, best of
// 5 rounds.
//
//   build-bench/bench/gg_route_match [iterations, default 200]
#include <time.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "service/gitlab/route_catalog.h"
#include "service/gitlab/route_template.h"

namespace {

using gitlab_gateway::gitlab::GenericRouteTemplate;
using gitlab_gateway::gitlab::RouteCatalog;
using gitlab_gateway::gitlab::RouteTemplate;

// ":name" -> value, "*name" -> "a/b/c" (a rough fill; the tests check the
// exact mapping).
std::string Fill(const std::string& tmpl, const std::string& value) {
  std::string out;
  for (size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] == ':' || tmpl[i] == '*') {
      out += tmpl[i] == '*' ? "a/b/c" : value;
      ++i;
      while (i < tmpl.size() &&
             (std::isalnum(static_cast<unsigned char>(tmpl[i])) ||
              tmpl[i] == '_')) {
        ++i;
      }
    } else {
      out.push_back(tmpl[i++]);
    }
  }
  return out;
}

// Thread CPU time (not wall time: the machine may be shared), best of 5.
double ThreadNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

template <typename Fn>
double NsPerCall(const std::vector<std::string>& paths, int iterations, Fn fn) {
  size_t sink = 0;
  double best = 1e300;
  for (int round = 0; round < 5; ++round) {
    const double start = ThreadNs();
    for (int i = 0; i < iterations; ++i) {
      for (const std::string& path : paths) sink += fn(path);
    }
    best = std::min(best, ThreadNs() - start);
  }
  if (sink == 42) std::printf(" ");
  return best / (static_cast<double>(iterations) * paths.size());
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 200;
  auto t0 = std::chrono::steady_clock::now();
  const RouteCatalog& catalog = RouteCatalog::Documented();
  double build_us = std::chrono::duration<double, std::micro>(
                        std::chrono::steady_clock::now() - t0)
                        .count();

  std::vector<std::string> known, unknown;
  for (const std::string& tmpl : catalog.templates()) {
    for (const char* value :
         {"42", "group%2Fsub%2Fdemo", "feature%2Flogin-v1.2.3",
          "0123456789abcdef0123456789abcdef01234567"}) {
      known.push_back(Fill(tmpl, value));
    }
  }
  for (int i = 0; i < 400; ++i) {
    unknown.push_back(absl::StrCat("/projects/", i, "/no_such/", i, "/x"));
    unknown.push_back(absl::StrCat("/x", i, "/y/z"));
  }
  std::vector<std::string> long_paths;  // 64 segments, a catalog prefix
  for (int i = 0; i < 100; ++i) {
    std::string p = absl::StrCat("/projects/", i, "/repository/files");
    for (int k = 0; k < 60; ++k) absl::StrAppend(&p, "/s", k);
    long_paths.push_back(p);
  }

  size_t segments = 0;
  for (const std::string& p : known) {
    for (char c : p) segments += c == '/';
  }
  std::printf("catalog: %zu templates, built in %.0f us\n",
              catalog.templates().size(), build_us);
  std::printf(
      "paths: %zu catalog (%.1f segments avg), %zu unknown, "
      "%zu of 64 segments; %d iterations\n",
      known.size(), static_cast<double>(segments) / known.size(),
      unknown.size(), long_paths.size(), iterations);
  auto match = [&](const std::string& p) {
    return catalog.Match(p).has_value() ? 1u : 0u;
  };
  auto label = [&](const std::string& p) { return RouteTemplate(p).size(); };
  std::printf("Match, catalog paths:          %7.1f ns/call\n",
              NsPerCall(known, iterations, match));
  std::printf("Match, unknown paths:          %7.1f ns/call\n",
              NsPerCall(unknown, iterations, match));
  std::printf("Match, 64-segment paths:       %7.1f ns/call\n",
              NsPerCall(long_paths, iterations, match));
  std::printf("RouteTemplate, catalog paths:  %7.1f ns/call\n",
              NsPerCall(known, iterations, label));
  std::printf("RouteTemplate, unknown paths:  %7.1f ns/call\n",
              NsPerCall(unknown, iterations, label));
  std::printf(
      "GenericRouteTemplate (the classifier alone), catalog paths: "
      "%7.1f ns/call\n",
      NsPerCall(known, iterations, [](const std::string& p) {
        return GenericRouteTemplate(p).size();
      }));
  return 0;
}
