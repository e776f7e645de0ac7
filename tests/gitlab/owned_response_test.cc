// OwnedResponse and the allocations of interpreting an answer: the Response
// lives on an arena of its own that moves without copying, and Interpret of
// the benchmark's answer (19 headers, a 643-byte JSON body) costs a counted
// number of heap allocations, checked here so it cannot creep back up.
#include "service/gitlab/owned_response.h"

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "service/gitlab/call_outcome.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GG_COUNTS_ALLOCATIONS 0
#else
#define GG_COUNTS_ALLOCATIONS 1
#endif

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

#if GG_COUNTS_ALLOCATIONS
// Every heap allocation of this test binary is counted (sanitizer builds
// bring their own operator new and skip the count).
void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif

namespace gitlab_gateway::gitlab {
namespace {

TEST(OwnedResponseTest, MovesHandTheSameMessageOver) {
  OwnedResponse a;
  a->set_id("a1");
  a->add_headers()->set_name("etag");
  EXPECT_NE(a->GetArena(), nullptr);  // on its own arena
  ::gitlab::gateway::v1::Response* message = a.get();
  OwnedResponse b = std::move(a);
  EXPECT_EQ(b.get(), message);
  EXPECT_EQ(a.get(), nullptr);
  EXPECT_EQ(b->id(), "a1");
  OwnedResponse c;
  c = std::move(b);
  EXPECT_EQ(c.get(), message);
  EXPECT_EQ(c->headers(0).name(), "etag");
}

// What the engine hands over for the benchmark's GET /projects/42 (the
// headers gg_bare_server answers with too).
engine::HttpResponse BenchmarkAnswer() {
  engine::HttpResponse http;
  http.status_code = 200;
  const char* headers[][2] = {
#include "bench/fixtures/answer_headers.inc"
  };
  for (const auto& [name, value] : headers) {
    http.headers.emplace_back(name, value);
  }
  http.body = std::string(643, 'x');
  http.body.front() = '{';
  http.body.back() = '}';
  http.content_type = "application/json";
  return http;
}

TEST(OwnedResponseTest, InterpretingAnAnswerTakesACountedNumberOfAllocations) {
  if (!GG_COUNTS_ALLOCATIONS) GTEST_SKIP() << "sanitizer build";
  PreparedCall call;
  call.id = "bench";
  call.path = "/projects/42";
  const absl::Time now = absl::Now();
  for (int round = 0; round < 3; ++round) {  // the same every time
    engine::HttpResponse http = BenchmarkAnswer();
    const long before = g_allocations.load();
    {
      CallOutcome outcome =
          Interpret(call, "gitlab.example.com", std::move(http), 1,
                    ::gitlab::gateway::v1::RateLimit(), now);
      ASSERT_TRUE(outcome.status.ok());
      ASSERT_EQ(outcome.response->headers_size(), 19);
      EXPECT_EQ(outcome.response->text().size(), 643u);
    }
    // The arena with its first block, and one string of the rate-limit
    // parse. With the Response on the heap it was 59 (heaptrack of the
    // gateway: 19 Header messages, 38 header strings, 2 more).
    EXPECT_LE(g_allocations.load() - before, 2) << "round " << round;
  }
}

}  // namespace
}  // namespace gitlab_gateway::gitlab
