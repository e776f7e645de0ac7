// FakeGitLab's misbehaving answers that are more than a variation of a normal
// reply: endless 1xx heads and unsolicited bytes after a reply. Run on the
// connection's thread, like the rest of Answer.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/fake_gitlab.h"
#include "tests/support/fake_gitlab_http.h"

namespace gitlab_gateway::testing {

int FakeGitLab::unsolicited_sent() const {
  absl::MutexLock lock(&mu_);
  return unsolicited_sent_;
}

bool FakeGitLab::WaitForUnsolicitedSent(int n, absl::Duration timeout) const {
  auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return unsolicited_sent_ >= n;
  };
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

void FakeGitLab::ReleaseUnsolicited() {
  absl::MutexLock lock(&mu_);
  ++unsolicited_released_;
}

size_t FakeGitLab::bytes_sent() const {
  absl::MutexLock lock(&mu_);
  return bytes_sent_;
}

// Never finishes the request: in_progress() keeps counting it until the client
// gives up.
FakeGitLab::End FakeGitLab::Informational(int fd, const Reply& reply,
                                          std::string* buf) {
  const int status =
      reply.status >= 100 && reply.status < 200 && reply.status != 101
          ? reply.status
          : 100;
  const std::string head = absl::StrCat(
      "HTTP/1.1 ", status, " ", fake_http::ReasonPhrase(status), "\r\n\r\n");
  for (;;) {
    End end = Send(fd, head);
    if (end != End::kKeepAlive) return end;
    end = HoldUntil(fd, absl::Now() + reply.drip_interval, buf);
    if (end != End::kKeepAlive) return end;
  }
}

// The reply is complete; after a pause (so the client has read the reply on
// its own and keeps the connection) the extra bytes follow, unrequested.
FakeGitLab::End FakeGitLab::SendUnsolicited(int fd, const Reply& reply,
                                            std::string* buf) {
  End end = HoldUntil(fd, absl::Now() + reply.unsolicited_delay, buf);
  if (end != End::kKeepAlive) return end;
  if (reply.hold_unsolicited) {
    auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return unsolicited_released_ > 0 || stopping_;
    };
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&released));
    if (stopping_) return End::kStopped;
    --unsolicited_released_;
  }
  end = Send(fd, reply.unsolicited);
  if (end != End::kKeepAlive) return end;
  absl::MutexLock lock(&mu_);
  ++unsolicited_sent_;
  return End::kKeepAlive;
}

}  // namespace gitlab_gateway::testing
