// EventLoop's epoll bookkeeping: a keep-alive connection's later transfers
// need no epoll_ctl (its registration is parked between transfers); a parked
// connection that becomes ready is dropped from the set instead of waking the
// loop again and again; a socket that replaces a closed one under the same
// descriptor number is registered afresh. Drives curl on the test thread.
#include "service/engine/event_loop.h"

#include <curl/curl.h>

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "service/engine/connection_guard.h"
#include "tests/support/fake_gitlab.h"

namespace gitlab_gateway::engine {
namespace {

using testing::FakeGitLab;
using testing::Reply;

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    ASSERT_TRUE(loop_.Init().ok());
    guard_.ObserveSockets(
        [this](curl_socket_t fd) {
          opened_.push_back(fd);
          loop_.Opened(fd);
        },
        [this](curl_socket_t fd) { loop_.Closing(fd); });
    easy_ = curl_easy_init();
    ASSERT_NE(easy_, nullptr);
  }
  void TearDown() override {
    curl_easy_cleanup(easy_);
    loop_.Close();  // while guard_ lives: the cache closes through it
  }

  // One GET of `path` on easy_ through the loop, to its end.
  CURLcode Get(const std::string& path, bool forbid_reuse = false) {
    curl_easy_setopt(easy_, CURLOPT_URL, (fake_.base_url() + path).c_str());
    curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, &Discard);
    curl_easy_setopt(easy_, CURLOPT_FORBID_REUSE, forbid_reuse ? 1L : 0L);
    guard_.Attach(easy_);
    curl_multi_add_handle(loop_.multi(), easy_);
    CURLcode code = CURLE_OPERATION_TIMEDOUT;
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    bool done = false;
    while (!done && absl::Now() < give_up) {
      loop_.Poll(absl::Now() + absl::Milliseconds(100));
      int pending = 0;
      while (CURLMsg* msg = curl_multi_info_read(loop_.multi(), &pending)) {
        if (msg->msg != CURLMSG_DONE) continue;
        code = msg->data.result;
        done = true;
      }
    }
    curl_multi_remove_handle(loop_.multi(), easy_);
    return code;
  }

  long NewConnections() {
    long n = -1;
    curl_easy_getinfo(easy_, CURLINFO_NUM_CONNECTS, &n);
    return n;
  }

  FakeGitLab fake_;
  ConnectionGuard guard_;
  EventLoop loop_;
  CURL* easy_ = nullptr;
  std::vector<curl_socket_t> opened_;
};

TEST_F(EventLoopTest, AKeepAliveConnectionsLaterTransfersNeedNoEpollCtl) {
  fake_.SetHandler([](const testing::RecordedRequest&) {
    return Reply::Json(200, R"({"ok":true})");
  });
  ASSERT_EQ(Get("/api/v4/version"), CURLE_OK);
  const uint64_t after_first = loop_.epoll_ctl_calls();
  EXPECT_GE(after_first, 1u);  // the new connection was registered
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Get("/api/v4/version"), CURLE_OK);
    EXPECT_EQ(NewConnections(), 0) << "transfer " << i << " reconnected";
  }
  EXPECT_EQ(loop_.epoll_ctl_calls(), after_first);
  EXPECT_EQ(fake_.connections_accepted(), 1);
}

TEST_F(EventLoopTest, AParkedConnectionThatWakesIsDroppedNotSpunOn) {
  int calls = 0;
  fake_.SetHandler([&calls](const testing::RecordedRequest&) {
    Reply reply = Reply::Json(200, R"({"ok":true})");
    // The first answer is followed by bytes nobody asked for: the idle
    // connection becomes readable while parked.
    if (calls++ == 0) {
      reply.unsolicited = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
      reply.unsolicited_delay = absl::Milliseconds(20);
    }
    return reply;
  });
  ASSERT_EQ(Get("/api/v4/version"), CURLE_OK);
  const uint64_t parked = loop_.epoll_ctl_calls();
  // Level-triggered and left in the set, the readable socket would end
  // every Poll at once: thousands of returns in 300 ms.
  int polls = 0;
  const absl::Time until = absl::Now() + absl::Milliseconds(300);
  while (absl::Now() < until) {
    loop_.Poll(absl::Now() + absl::Milliseconds(20));
    ++polls;
  }
  EXPECT_LT(polls, 60);
  EXPECT_EQ(loop_.epoll_ctl_calls(), parked + 1);  // one EPOLL_CTL_DEL
  // The connection is still curl's to use (what it then reads is the
  // guard's business: connection_guard_test.cc).
  EXPECT_EQ(Get("/api/v4/version"), CURLE_OK);
}

TEST_F(EventLoopTest, ASocketReusingAClosedOnesNumberIsRegisteredAfresh) {
  fake_.SetHandler([](const testing::RecordedRequest&) {
    return Reply::Json(200, R"({"ok":true})");
  });
  ASSERT_EQ(Get("/api/v4/version", /*forbid_reuse=*/true), CURLE_OK);
  ASSERT_EQ(Get("/api/v4/version"), CURLE_OK);  // would hang if not added
  ASSERT_EQ(opened_.size(), 2u);
  // The kernel hands out the lowest free number: the second socket took the
  // first one's, the case a stale registration would break.
  EXPECT_EQ(opened_[0], opened_[1]);
  EXPECT_EQ(fake_.connections_accepted(), 2);
}

}  // namespace
}  // namespace gitlab_gateway::engine
