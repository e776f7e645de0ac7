// FaultyUpstream misbehaves as documented, seen by plain libcurl (no
// gateway): so a gateway test that passes cannot pass because the fake
// failed to inject its fault.
#include "tests/faults/faulty_upstream.h"

#include <curl/curl.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::testing {
namespace {

struct Fetched {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  int status_lines = 0;  // "HTTP/..." header lines, 1xx included
  int header_lines = 0;  // other header lines
  bool retry_after = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* userp) {
  auto* f = static_cast<Fetched*>(userp);
  // Stop an endless body once it is clearly past any cap.
  if (f->body.size() > (size_t{4} << 20)) return 0;
  f->body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* userp) {
  auto* f = static_cast<Fetched*>(userp);
  absl::string_view line(data, size * n);
  if (absl::StartsWith(line, "HTTP/")) {
    ++f->status_lines;
  } else if (line.find(':') != absl::string_view::npos) {
    ++f->header_lines;
    f->retry_after |= absl::StartsWithIgnoreCase(line, "Retry-After: 1");
  }
  return size * n;
}

// One GET on `easy` (reused between calls, so its connection is too).
Fetched Fetch(CURL* easy, const std::string& url, long timeout_ms = 5000) {
  Fetched f;
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &f);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &f);
  f.code = curl_easy_perform(easy);
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &f.status);
  return f;
}

class FaultyUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override { easy_ = curl_easy_init(); }
  void TearDown() override { curl_easy_cleanup(easy_); }

  Fetched Get(FaultyUpstream& upstream, Fault fault, int status = 0,
              long timeout_ms = 5000) {
    return Fetch(easy_,
                 upstream.base_url() + "/api/v4" + FaultPath(fault, status),
                 timeout_ms);
  }

  CURL* easy_ = nullptr;
};

TEST_F(FaultyUpstreamTest, HealthyAndStatusRoutesAnswer) {
  FaultyUpstream upstream;
  Fetched ok = Get(upstream, Fault::kHealthy);
  EXPECT_EQ(ok.code, CURLE_OK);
  EXPECT_EQ(ok.status, 200);
  EXPECT_TRUE(absl::StrContains(ok.body, "\"id\":42"));
  Fetched limited = Get(upstream, Fault::kStatus, 429);
  EXPECT_EQ(limited.status, 429);
  EXPECT_TRUE(limited.retry_after);
  EXPECT_EQ(Get(upstream, Fault::kStatus, 503).status, 503);
}

TEST_F(FaultyUpstreamTest, BrokenBodies) {
  FaultyUpstream upstream;
  Fetched reset = Get(upstream, Fault::kResetMidBody);
  EXPECT_NE(reset.code, CURLE_OK);
  EXPECT_LE(reset.body.size(), 1024u);

  Fetched stalled = Get(upstream, Fault::kStallAfterHeaders, 0, 1000);
  EXPECT_EQ(stalled.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_EQ(stalled.status, 200);
  EXPECT_TRUE(stalled.body.empty());

  Fetched endless = Get(upstream, Fault::kEndlessChunked);
  EXPECT_EQ(endless.code, CURLE_WRITE_ERROR);
  EXPECT_GT(endless.body.size(), size_t{4} << 20);
}

TEST_F(FaultyUpstreamTest, DripSendsOneByteAtATime) {
  FaultyUpstreamOptions options;
  options.drip_interval = absl::Milliseconds(20);
  FaultyUpstream upstream(options);
  Fetched drip = Get(upstream, Fault::kDrip, 0, 1000);
  EXPECT_EQ(drip.code, CURLE_OPERATION_TIMEDOUT);
  // 1,000 bytes at 20 ms each would take 20 s; some arrived, far from all.
  EXPECT_GE(drip.body.size(), 1u);
  EXPECT_LT(drip.body.size(), 500u);
}

TEST_F(FaultyUpstreamTest, NotHttpAtAll) {
  FaultyUpstream upstream;
  Fetched garbage = Get(upstream, Fault::kGarbage);
  EXPECT_NE(garbage.code, CURLE_OK);
  EXPECT_EQ(garbage.status_lines, 0);
  Fetched bad = Get(upstream, Fault::kBadStatusLine);
  EXPECT_NE(bad.code, CURLE_OK);
  EXPECT_EQ(bad.status, 0);
}

TEST_F(FaultyUpstreamTest, ContinueStormNeverEnds) {
  FaultyUpstream upstream;
  Fetched storm = Get(upstream, Fault::kContinueStorm, 0, 1000);
  EXPECT_EQ(storm.code, CURLE_OPERATION_TIMEDOUT);
  EXPECT_GE(storm.status_lines, 10);
}

TEST_F(FaultyUpstreamTest, HugeHeaders) {
  FaultyUpstreamOptions options;
  options.huge_header_count = 2000;
  FaultyUpstream upstream(options);
  Fetched huge = Get(upstream, Fault::kHugeHeaders);
  EXPECT_EQ(huge.code, CURLE_OK);
  EXPECT_EQ(huge.status, 404);
  EXPECT_GE(huge.header_lines, 2000);
}

TEST_F(FaultyUpstreamTest, IdleConnectionIsClosedByTheServer) {
  FaultyUpstream upstream;  // closes after 20 ms idle
  EXPECT_EQ(Get(upstream, Fault::kIdleClose).status, 200);
  ASSERT_TRUE(upstream.WaitForServerCloses(1, absl::Seconds(10)));
  EXPECT_EQ(upstream.counts().idle_closes, 1);
  EXPECT_EQ(Get(upstream, Fault::kHealthy).status, 200);
  EXPECT_EQ(upstream.counts().connections_accepted, 2);
}

TEST_F(FaultyUpstreamTest, RequestOnADoomedConnectionIsDroppedUnanswered) {
  FaultyUpstreamOptions options;
  options.idle_close_after = absl::Seconds(30);  // the next request comes first
  FaultyUpstream upstream(options);
  EXPECT_EQ(Get(upstream, Fault::kIdleClose).status, 200);
  // curl reuses the connection, gets nothing back, and retries on a fresh one.
  Fetched next = Get(upstream, Fault::kHealthy);
  EXPECT_EQ(next.code, CURLE_OK);
  EXPECT_EQ(next.status, 200);
  FaultyUpstream::Counts counts = upstream.counts();
  EXPECT_EQ(counts.closed_on_reuse, 1);
  EXPECT_EQ(counts.requests, 3);
  EXPECT_EQ(counts.connections_accepted, 2);
}

TEST_F(FaultyUpstreamTest, TlsClientOnThePlaintextPortFailsItsHandshake) {
  FaultyUpstream upstream;
  Fetched tls = Fetch(easy_, upstream.https_base_url() + "/api/v4/projects/42");
  EXPECT_EQ(tls.code, CURLE_SSL_CONNECT_ERROR) << curl_easy_strerror(tls.code);
  EXPECT_EQ(upstream.counts().tls_hellos, 1);
  EXPECT_EQ(upstream.counts().requests, 0);
}

}  // namespace
}  // namespace gitlab_gateway::testing
