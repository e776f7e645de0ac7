#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_REDIS_SERVER_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_REDIS_SERVER_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace gitlab_gateway::testing {

// A real redis-server (Debian's /usr/bin/redis-server) on 127.0.0.1 and a
// free port, without persistence (--save '' --appendonly no), started by
// the test and stopped by the destructor. Kill() and Start() again (same
// port) simulate an outage. Test thread only.
//
//   RedisServer redis;
//   ASSERT_TRUE(redis.Start().ok());
//   config.quota_redis_url = redis.url();
class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts the server and waits (up to 10 s) until it answers PING.
  absl::Status Start();
  // SIGKILL and reap: connections drop at once, nothing is saved.
  void Kill();
  // SIGSTOP / SIGCONT: a server that accepts nothing and answers nothing.
  void Freeze();
  void Thaw();

  int port() const { return port_; }
  std::string url() const;  // "redis://127.0.0.1:<port>/0"
  bool running() const { return pid_ > 0; }

  // A blocking one-shot command for assertions ("DBSIZE", "HGET k f"):
  // the reply's first line, e.g. ":3" or "+OK", or a bulk string's
  // content ("$-1" for none); "" on failure.
  std::string Query(const std::string& command) const;

 private:
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_REDIS_SERVER_H_
