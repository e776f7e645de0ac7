#ifndef GITLAB_GATEWAY_SERVICE_LIMITS_REDIS_CLIENT_H_
#define GITLAB_GATEWAY_SERVICE_LIMITS_REDIS_CLIENT_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "service/limits/redis_address.h"

struct redisAsyncContext;
struct redisReply;

namespace gitlab_gateway::limits {

// A Redis reply as a plain value (hiredis' reply freed on the client thread).
struct RedisValue {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;
  std::vector<RedisValue> elements;
};

// One hiredis async connection, owned and driven by a dedicated thread with
// its own poll loop (socket + eventfd). Commands from any thread are queued,
// pipelined on the connection in order, and answered on the client thread:
// no caller ever waits on the network.
//
// Scripts given at construction are loaded with SCRIPT LOAD after every
// (re)connect and run with EVALSHA; a NOSCRIPT error (or a sha not yet
// known) falls back to EVAL with the full text, transparently.
//
// Every callback runs exactly once: with the reply, with an error reply
// (FAILED_PRECONDITION carrying Redis' message), UNAVAILABLE when not
// connected (at once) or when the connection drops, DEADLINE_EXCEEDED after
// `timeout` (a late reply is then dropped), or CANCELLED from the
// destructor. Callbacks run on the client thread (or, for CANCELLED, on the
// destroying thread) and must be short and must not block.
//
// A dropped connection is retried with exponential backoff (reconnect_min
// doubling to reconnect_max). Thread-safe; destroy from any thread except
// the client thread.
class RedisClient {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<RedisValue>)>;

  struct Options {
    RedisAddress address;
    absl::Duration timeout = absl::Milliseconds(50);
    absl::Duration connect_timeout = absl::Seconds(1);
    absl::Duration reconnect_min = absl::Milliseconds(100);
    absl::Duration reconnect_max = absl::Seconds(5);
    std::vector<std::string> scripts;  // Eval's `script` indexes these
  };

  explicit RedisClient(Options options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Any command, e.g. {"PING"}.
  void Command(std::vector<std::string> args, Callback done);
  // Runs scripts[script] with EVALSHA (EVAL when needed).
  void Eval(int script, std::vector<std::string> keys,
            std::vector<std::string> args, Callback done);

  // Whether a connection is established now (for tests and logs).
  bool connected() const;

 private:
  struct Request {
    int script = -1;  // -1: plain command in `args`
    std::vector<std::string> keys;
    std::vector<std::string> args;
    Callback done;
  };
  struct Pending {
    Request request;
    absl::Time deadline;
    bool eval_sent = false;  // the full text went already (no 2nd retry)
  };

  void Loop();
  void Wake();
  void Connect(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  void Issue(uint64_t id, Pending& pending);
  void Complete(uint64_t id, absl::StatusOr<RedisValue> value);
  void FailAll(const absl::Status& status);
  void ExpireTimedOut(absl::Time now);
  void OnDisconnected(absl::Time now);

  static void OnReply(redisAsyncContext* ctx, void* reply, void* privdata);
  static void OnScriptLoaded(redisAsyncContext* ctx, void* reply,
                             void* privdata);
  static void OnConnect(const redisAsyncContext* ctx, int status);
  static void OnDisconnect(const redisAsyncContext* ctx, int status);
  static void AddRead(void* data);
  static void DelRead(void* data);
  static void AddWrite(void* data);
  static void DelWrite(void* data);
  static void Cleanup(void* data);

  const Options options_;
  int wake_fd_ = -1;

  mutable absl::Mutex mu_;
  std::deque<Request> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;

  // Client thread only.
  redisAsyncContext* ctx_ = nullptr;
  bool want_read_ = false;
  bool want_write_ = false;
  bool ready_ = false;  // connect finished
  absl::Time connect_started_;
  absl::Time next_connect_ = absl::InfinitePast();
  absl::Duration backoff_;
  std::vector<std::string> shas_;  // "" until SCRIPT LOAD answered
  uint64_t next_id_ = 1;
  absl::flat_hash_map<uint64_t, Pending> pending_;
  std::deque<std::pair<absl::Time, uint64_t>> deadlines_;  // FIFO by time
  std::thread thread_;
};

}  // namespace gitlab_gateway::limits

#endif  // GITLAB_GATEWAY_SERVICE_LIMITS_REDIS_CLIENT_H_
