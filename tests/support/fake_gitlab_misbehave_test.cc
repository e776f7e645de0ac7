// The fake's misbehaving answers, seen on a raw socket: garbage, endless 1xx
// heads, and bytes sent after a reply that nobody asked for.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/support/fake_gitlab.h"

namespace gitlab_gateway::testing {
namespace {

constexpr char kGet[] = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n";

class Raw {
 public:
  explicit Raw(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_ =
        connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~Raw() { close(fd_); }
  bool connected() const { return connected_; }
  bool Send(absl::string_view data) {
    return send(fd_, data.data(), data.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(data.size());
  }
  // Appends to `received` until it holds `needle` `times` times, EOF (`*eof`)
  // or 5 s.
  bool ReadUntil(const std::string& needle, int times, bool* eof) {
    absl::Time deadline = absl::Now() + absl::Seconds(5);
    *eof = false;
    while (Count(needle) < times && absl::Now() < deadline) {
      pollfd pfd = {fd_, POLLIN, 0};
      if (poll(&pfd, 1, 100) <= 0) continue;
      char chunk[4096];
      ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n <= 0) {
        *eof = true;
        break;
      }
      received.append(chunk, static_cast<size_t>(n));
    }
    return Count(needle) >= times;
  }
  std::string received;

 private:
  int Count(const std::string& needle) const {
    int found = 0;
    for (size_t pos = received.find(needle); pos != std::string::npos;
         pos = received.find(needle, pos + 1)) {
      ++found;
    }
    return found;
  }
  int fd_;
  bool connected_ = false;
};

TEST(FakeGitLabMisbehaveTest, RawSendsTheBytesVerbatimThenCloses) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Raw("this is not HTTP\r\n"));
  Raw raw(fake.port());
  ASSERT_TRUE(raw.connected());
  ASSERT_TRUE(raw.Send(kGet));
  bool eof = false;
  raw.ReadUntil("never", 1, &eof);
  EXPECT_TRUE(eof);
  EXPECT_EQ(raw.received, "this is not HTTP\r\n");
  EXPECT_EQ(fake.request_count(), 1u);
}

TEST(FakeGitLabMisbehaveTest, InformationalRepeatsUntilTheClientLeaves) {
  FakeGitLab fake;
  Reply reply = Reply::Do(Reply::Action::kInformational);
  reply.drip_interval = absl::Milliseconds(1);
  fake.Enqueue(reply);
  {
    Raw raw(fake.port());
    ASSERT_TRUE(raw.Send(kGet));
    bool eof = false;
    ASSERT_TRUE(raw.ReadUntil("HTTP/1.1 100 Continue\r\n\r\n", 5, &eof));
    EXPECT_FALSE(eof);
    EXPECT_TRUE(
        absl::StartsWith(raw.received, "HTTP/1.1 100 Continue\r\n\r\n"));
    EXPECT_EQ(raw.received.find("200"), std::string::npos);
    EXPECT_EQ(fake.in_progress(), 1);
  }
  EXPECT_TRUE(fake.WaitForClosedByClient(1, absl::Seconds(5)));
  EXPECT_EQ(fake.in_progress(), 0);
}

TEST(FakeGitLabMisbehaveTest, InformationalUsesA1xxStatusWhenGiven) {
  FakeGitLab fake;
  Reply reply = Reply::Do(Reply::Action::kInformational);
  reply.status = 102;
  fake.Enqueue(reply);
  Raw raw(fake.port());
  ASSERT_TRUE(raw.Send(kGet));
  bool eof = false;
  EXPECT_TRUE(raw.ReadUntil("HTTP/1.1 102 ", 1, &eof));
}

TEST(FakeGitLabMisbehaveTest,
     UnsolicitedBytesFollowTheReplyOnTheSameConnection) {
  FakeGitLab fake;
  Reply first = Reply::Text(200, "first");
  first.unsolicited = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra";
  first.unsolicited_delay = absl::Milliseconds(1);
  fake.Enqueue(first);
  fake.Enqueue(Reply::Text(200, "second"));
  Raw raw(fake.port());
  ASSERT_TRUE(raw.Send(kGet));
  bool eof = false;
  ASSERT_TRUE(raw.ReadUntil("extra", 1, &eof));
  EXPECT_TRUE(fake.WaitForUnsolicitedSent(1, absl::Seconds(5)));
  EXPECT_EQ(fake.unsolicited_sent(), 1);
  // The connection stays open and serves the next request.
  ASSERT_TRUE(raw.Send(kGet));
  ASSERT_TRUE(raw.ReadUntil("second", 1, &eof));
  EXPECT_EQ(fake.unsolicited_sent(), 1);
  EXPECT_EQ(fake.connections_accepted(), 1);
  size_t first_at = raw.received.find("first");
  size_t extra_at = raw.received.find("extra");
  EXPECT_LT(first_at, extra_at);
}

// A held reply's extra bytes wait for ReleaseUnsolicited, so the client has
// read the whole reply before they come; bytes_sent() counts both once
// unsolicited_sent() does.
TEST(FakeGitLabMisbehaveTest, HeldUnsolicitedBytesWaitForTheRelease) {
  FakeGitLab fake;
  Reply first = Reply::Text(200, "first");
  first.unsolicited = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra";
  first.unsolicited_delay = absl::ZeroDuration();
  first.hold_unsolicited = true;
  fake.Enqueue(first);
  Raw raw(fake.port());
  ASSERT_TRUE(raw.Send(kGet));
  bool eof = false;
  ASSERT_TRUE(raw.ReadUntil("first", 1, &eof));
  EXPECT_FALSE(fake.WaitForUnsolicitedSent(1, absl::Milliseconds(100)));
  EXPECT_FALSE(absl::StrContains(raw.received, "extra"));
  fake.ReleaseUnsolicited();
  ASSERT_TRUE(raw.ReadUntil("extra", 1, &eof));
  // Counted before unsolicited_sent(), after the bytes left.
  ASSERT_TRUE(fake.WaitForUnsolicitedSent(1, absl::Seconds(5)));
  EXPECT_EQ(fake.bytes_sent(), raw.received.size());
}

// A fake stopping while a reply is held does not hang.
TEST(FakeGitLabMisbehaveTest, AHeldReplyEndsWhenTheFakeStops) {
  auto fake = std::make_unique<FakeGitLab>();
  Reply first = Reply::Text(200, "first");
  first.unsolicited = "extra";
  first.hold_unsolicited = true;
  fake->Enqueue(first);
  Raw raw(fake->port());
  ASSERT_TRUE(raw.Send(kGet));
  bool eof = false;
  ASSERT_TRUE(raw.ReadUntil("first", 1, &eof));
  fake.reset();
  EXPECT_FALSE(absl::StrContains(raw.received, "extra"));
}

}  // namespace
}  // namespace gitlab_gateway::testing
