// AccessLog: records reach the sink whole and in order from one writer
// thread; a full queue drops (and reports) instead of waiting for the sink;
// Flush and the destructor write what is queued; files are appended to.
#include "service/log/access_log.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::log {
namespace {

using ::testing::HasSubstr;

AccessRecord WithId(std::string id) {
  AccessRecord r;
  r.rpc = "Execute";
  r.id = std::move(id);
  return r;
}

// Collects what the writer writes; any thread may read under mu.
struct Collected {
  absl::Mutex mu;
  std::string text ABSL_GUARDED_BY(mu);
  std::string Text() {
    absl::MutexLock lock(&mu);
    return text;
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AccessLogTest, WritesRecordsInOrderFromManyThreads) {
  Collected out;
  AccessLog log(
      [&out](absl::string_view lines) {
        absl::MutexLock lock(&out.mu);
        absl::StrAppend(&out.text, lines);
      },
      AccessLog::Options{}, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 250; ++i) log.Record(WithId(absl::StrCat(t, "-", i)));
    });
  }
  for (auto& th : threads) th.join();
  log.Flush();
  std::vector<std::string> lines =
      absl::StrSplit(out.Text(), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1000u);
  // Per thread, in the order recorded.
  std::vector<int> next(4, 0);
  for (const std::string& line : lines) {
    ASSERT_EQ(line.front(), '{');
    ASSERT_EQ(line.back(), '}');
    size_t at = line.find("\"id\":\"") + 6;
    int t = line[at] - '0';
    EXPECT_THAT(line,
                HasSubstr(absl::StrCat("\"id\":\"", t, "-", next[t], "\"")));
    ++next[t];
  }
  EXPECT_EQ(log.dropped(), 0u);
}

TEST(AccessLogTest, DropsAndCountsWhenTheWriterIsStuckInsteadOfWaiting) {
  absl::Notification in_sink, release;
  Collected out;
  std::atomic<int> drops{0};
  {
    AccessLog log(
        [&](absl::string_view lines) {
          if (!in_sink.HasBeenNotified()) in_sink.Notify();
          release.WaitForNotification();  // a disk that does not answer
          absl::MutexLock lock(&out.mu);
          absl::StrAppend(&out.text, lines);
        },
        AccessLog::Options{/*max_queued=*/3}, [&drops] { ++drops; });
    ASSERT_TRUE(log.Record(WithId("first")));
    in_sink.WaitForNotification();  // the writer holds "first"
    // The queue takes 3 more; the rest is dropped at once.
    const absl::Time start = absl::Now();
    int accepted = 0;
    for (int i = 0; i < 10; ++i) accepted += log.Record(WithId("x")) ? 1 : 0;
    EXPECT_LT(absl::Now() - start, absl::Seconds(5));  // never waited
    EXPECT_EQ(accepted, 3);
    EXPECT_EQ(drops.load(), 7);
    EXPECT_EQ(log.dropped(), 7u);
    release.Notify();
  }  // the destructor writes what was queued
  std::vector<std::string> lines =
      absl::StrSplit(out.Text(), '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 4u);
}

TEST(AccessLogTest, OpenAppendsToAFile) {
  std::string path =
      absl::StrCat(::testing::TempDir(), "/access_log_test_", getpid(), ".log");
  std::remove(path.c_str());
  {
    std::ofstream(path) << "earlier line\n";
    auto log = AccessLog::Open(path, {}, nullptr);
    ASSERT_TRUE(log.ok()) << log.status();
    (*log)->Record(WithId("one"));
    (*log)->Record(WithId("two"));
  }
  std::string text = ReadFile(path);
  EXPECT_THAT(text, ::testing::StartsWith("earlier line\n{"));
  EXPECT_THAT(text, HasSubstr("\"id\":\"one\""));
  EXPECT_THAT(text, HasSubstr("\"id\":\"two\""));
  std::remove(path.c_str());
}

TEST(AccessLogTest, OpenRefusesAPathItCannotWrite) {
  auto log = AccessLog::Open("/nonexistent-dir/access.log", {}, nullptr);
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(std::string(log.status().message()),
              HasSubstr("access_log: cannot open /nonexistent-dir/access.log"));
}

// A busy gateway wakes the writer a few times a second, not once per call:
// records gather for the batch interval and go out in one write; half a
// queue, Flush and shutdown cut the interval short.
TEST(AccessLogTest, RecordsGatherIntoOneWritePerInterval) {
  std::atomic<int> writes{0};
  std::atomic<int> lines{0};
  AccessLog::Options options;
  options.max_queued = 100;
  options.batch_interval = absl::Hours(1);  // only the cuts below end it
  {
    AccessLog log(
        [&](absl::string_view text) {
          writes.fetch_add(1);
          lines.fetch_add(static_cast<int>(
              std::count(text.begin(), text.end(), '\n')));
        },
        options, nullptr);
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(log.Record(WithId("a")));
    log.Flush();
    EXPECT_EQ(lines.load(), 30);
    // The first record woke the writer; the rest gathered behind it: at
    // most two writes for 30 records (one per call before the change).
    EXPECT_LE(writes.load(), 2);
    const int before = writes.load();
    // Half the queue (50) wakes a gathering writer without a Flush.
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(log.Record(WithId("b")));
    const absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (lines.load() < 80 && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    EXPECT_EQ(lines.load(), 80);
    EXPECT_LE(writes.load(), before + 2);
    ASSERT_TRUE(log.Record(WithId("c")));
  }  // shutdown writes the last one at once, not after an hour
  EXPECT_EQ(lines.load(), 81);
}

}  // namespace
}  // namespace gitlab_gateway::log
