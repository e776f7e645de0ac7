// The `caller` label stays bounded (anonymous, known names, "other"), and
// calls and refusals are counted by it.
#include <string>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "service/metrics/metrics.h"

namespace gitlab_gateway::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Text(const Metrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.registry()->Collect());
}

TEST(CallerLabelTest, KnownNamesAnonymousAndOtherwiseOther) {
  Metrics metrics({"ci-bot", "release-bot"});
  EXPECT_EQ(metrics.CallerLabel("anonymous"), "anonymous");
  EXPECT_EQ(metrics.CallerLabel("ci-bot"), "ci-bot");
  EXPECT_EQ(metrics.CallerLabel("spiffe://cluster/ns/x/sa/y"), "other");
  EXPECT_EQ(metrics.CallerLabel(""), "other");
  metrics.SetKnownCallers({"spiffe://cluster/ns/x/sa/y"});
  EXPECT_EQ(metrics.CallerLabel("spiffe://cluster/ns/x/sa/y"),
            "spiffe://cluster/ns/x/sa/y");
  EXPECT_EQ(metrics.CallerLabel("ci-bot"), "other");
}

TEST(CallerLabelTest, ACallerAddedAfterStartIsLookedUpInTheDirectory) {
  Metrics metrics({"ci-bot"});
  absl::flat_hash_set<std::string> directory = {"ci-bot"};
  int lookups = 0;
  metrics.SetCallerDirectory([&](absl::string_view name) {
    ++lookups;
    return directory.contains(name);
  });
  EXPECT_EQ(metrics.CallerLabel("new-bot"), "other");
  directory.insert("new-bot");  // a reloaded callers file names it
  EXPECT_EQ(metrics.CallerLabel("new-bot"), "new-bot");
  const int after = lookups;
  EXPECT_EQ(metrics.CallerLabel("new-bot"), "new-bot");
  EXPECT_EQ(lookups, after);  // known from then on, no further lookup
  EXPECT_EQ(metrics.CallerLabel("ci-bot"), "ci-bot");
  EXPECT_EQ(metrics.CallerLabel("anonymous"), "anonymous");
  metrics.SetCallerDirectory(nullptr);
  EXPECT_EQ(metrics.CallerLabel("newer-bot"), "other");
}

TEST(CallerLabelTest, ClearingTheDirectoryWaitsForALookupInProgress) {
  // The gateway clears the directory before it destroys the callers file
  // and the policy the directory reads: no lookup may still be inside.
  Metrics metrics;
  absl::Notification entered, release;
  metrics.SetCallerDirectory([&](absl::string_view) {
    entered.Notify();
    release.WaitForNotification();
    return true;
  });
  std::string label;
  std::thread lookup([&] { label = metrics.CallerLabel("late-bot"); });
  entered.WaitForNotification();
  absl::Notification cleared;
  std::thread clear([&] {
    metrics.SetCallerDirectory(nullptr);
    cleared.Notify();
  });
  // Whatever the wait, the clear cannot finish while the lookup runs.
  EXPECT_FALSE(cleared.WaitForNotificationWithTimeout(absl::Milliseconds(200)));
  release.Notify();
  lookup.join();
  clear.join();
  EXPECT_TRUE(cleared.HasBeenNotified());
  EXPECT_EQ(label, "late-bot");
  EXPECT_EQ(metrics.CallerLabel("later-bot"), "other");
}

TEST(CallerLabelTest, DirectoryNamesAreCappedInCount) {
  Metrics metrics;
  metrics.SetCallerDirectory([](absl::string_view) { return true; });
  for (size_t i = 0; i < Metrics::kMaxCallerLabels; ++i) {
    ASSERT_EQ(metrics.CallerLabel(absl::StrCat("c", i)), absl::StrCat("c", i));
  }
  EXPECT_EQ(metrics.CallerLabel("one-too-many"), "other");
  EXPECT_EQ(metrics.CallerLabel("c0"), "c0");
}

TEST(CallerLabelTest, RpcAndCallMetricsCarryTheBoundedCaller) {
  Metrics metrics({"ci-bot"});
  metrics.RpcStarted("Execute", "unary", "ci-bot");
  metrics.RpcHandled("Execute", "unary", 0, absl::Milliseconds(3), "ci-bot");
  metrics.RpcStarted("Execute", "unary", "somebody-unknown");
  metrics.CallFinished("Execute", "ci-bot", 5);
  metrics.CallFinished("Paginate", "anonymous", 0);
  std::string text = Text(metrics);
  EXPECT_THAT(text, HasSubstr("grpc_server_started_total{caller=\"ci-bot\""));
  EXPECT_THAT(text, HasSubstr("grpc_server_started_total{caller=\"other\""));
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{caller=\"ci-bot\""));
  EXPECT_THAT(
      text, HasSubstr("grpc_server_handling_seconds_count{caller=\"ci-bot\""));
  EXPECT_THAT(text, HasSubstr("gitlab_gateway_calls_total{caller=\"ci-bot\","
                              "grpc_code=\"NOT_FOUND\",rpc=\"Execute\"} 1"));
  EXPECT_THAT(text, HasSubstr("gitlab_gateway_calls_total{caller=\"anonymous\","
                              "grpc_code=\"OK\",rpc=\"Paginate\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("somebody-unknown")));
}

TEST(CallerLabelTest, RefusalsByReasonAndCallerWithABoundedReasonSet) {
  Metrics metrics;
  metrics.CountRefusal("INVALID_PATH", "anonymous");
  metrics.CountRefusal("INVALID_PATH", "anonymous");
  metrics.CountRefusal("INVALID_METADATA", "x");
  std::string text = Text(metrics);
  EXPECT_THAT(text,
              HasSubstr("gitlab_gateway_refusals_total{caller=\"anonymous\","
                        "reason=\"INVALID_PATH\"} 2"));
  EXPECT_THAT(text, HasSubstr("gitlab_gateway_refusals_total{caller=\"other\","
                              "reason=\"INVALID_METADATA\"} 1"));
  for (size_t i = 0; i < Metrics::kMaxReasons + 10; ++i) {
    metrics.CountRefusal(absl::StrCat("R", i), "anonymous");
  }
  text = Text(metrics);
  EXPECT_THAT(text, HasSubstr("reason=\"other\""));
  EXPECT_THAT(
      text,
      Not(HasSubstr(absl::StrCat("reason=\"R", Metrics::kMaxReasons, "\""))));
}

TEST(CallerLabelTest, AccessLogDropsAreCounted) {
  Metrics metrics;
  metrics.CountAccessLogDropped();
  metrics.CountAccessLogDropped();
  EXPECT_THAT(Text(metrics),
              HasSubstr("gitlab_gateway_access_log_dropped_total 2"));
}

}  // namespace
}  // namespace gitlab_gateway::metrics
