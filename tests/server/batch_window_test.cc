// BatchExecute's window, counted at GitLab: with answers held, exactly
// `batch_window` items of a longer stream reach upstream, and each answer
// released lets exactly one more go. Issue 11 found that a window of N
// letting N+1 items through went unnoticed by every other test.
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "tests/server/gateway_harness.h"

namespace gitlab_gateway::testing {
namespace {

// Holds the fake's answers until released. Any thread.
class Gate {
 public:
  // Called by the fake's handler: waits for a permit, or for the gate to
  // open for good; 60 s at most, since the fake waits for its handlers.
  void Pass() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(this, &Gate::Ready),
                         absl::Seconds(60));
    if (!open_ && permits_ > 0) --permits_;
  }
  void Release(int n) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    permits_ += n;
  }
  void Open() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }

 private:
  bool Ready() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return open_ || permits_ > 0;
  }

  absl::Mutex mu_;
  int permits_ ABSL_GUARDED_BY(mu_) = 0;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
};

// No more requests may arrive: wait this long for one that should not. The
// correct gateway never sends it, so the wait cannot fail a correct build;
// a broken one sends it within milliseconds.
constexpr absl::Duration kSettle = absl::Milliseconds(500);

TEST(BatchWindowTest, ExactlyTheWindowGoesUpstreamThenOneMorePerAnswer) {
  constexpr int kWindow = 4;
  Gate gate;  // outlives the fake, whose handlers wait on it
  GatewayHarness h(
      [](server::GatewayConfig& config) { config.batch_window = kWindow; });
  h.fake.SetHandler([&gate](const RecordedRequest&) {
    gate.Pass();
    return Reply::Json(200, "{}");
  });
  // Runs first on every exit: the fake's destructor waits for handlers.
  absl::Cleanup open_gate = [&gate] { gate.Open(); };

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = h.stub->BatchExecute(&context);
  for (int i = 0; i < 2 * kWindow; ++i) {
    v1::Request request = Get(absl::StrCat("/projects/", i));
    request.set_id(absl::StrCat(i));
    EXPECT_TRUE(stream->Write(request));
  }

  EXPECT_TRUE(h.fake.WaitForRequests(kWindow, absl::Seconds(20)));
  EXPECT_FALSE(h.fake.WaitForRequests(kWindow + 1, kSettle));
  EXPECT_EQ(h.fake.request_count(), static_cast<size_t>(kWindow));

  gate.Release(1);
  v1::Response response;
  EXPECT_TRUE(stream->Read(&response));
  EXPECT_TRUE(h.fake.WaitForRequests(kWindow + 1, absl::Seconds(20)));
  EXPECT_FALSE(h.fake.WaitForRequests(kWindow + 2, kSettle));
  EXPECT_EQ(h.fake.request_count(), static_cast<size_t>(kWindow + 1));

  // Drain: every item answered once, the stream ends OK.
  gate.Open();
  stream->WritesDone();
  std::set<std::string> ids = {response.id()};
  while (stream->Read(&response)) {
    EXPECT_TRUE(ids.insert(response.id()).second) << response.id();
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(ids.size(), static_cast<size_t>(2 * kWindow));
  EXPECT_EQ(h.fake.request_count(), static_cast<size_t>(2 * kWindow));
}

}  // namespace
}  // namespace gitlab_gateway::testing
