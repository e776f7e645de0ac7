// ThreadSanitizer annotations for Debian's absl synchronization library.
//
// Debian's libabsl_synchronization.so is not built with -fsanitize=thread, so
// TSan cannot see that absl::Mutex, CondVar, Notification and BlockingCounter
// order memory: every ABSL_GUARDED_BY member touched by two threads would be
// reported as a race. absl built with TSan calls __tsan_mutex_* around each
// operation (ABSL_TSAN_MUTEX_* in absl/synchronization/mutex.cc); this file
// puts the same calls back. Each function below interposes the library's
// exported symbol (the executable's definition wins over the shared
// library's, also for calls from libgrpc and from inside absl itself), makes
// the annotation and calls the real function found with dlsym(RTLD_NEXT).
// Only the outermost intercepted call on a thread annotates: absl's own
// nested calls (LockWhenWithTimeout -> LockWhenWithDeadline, Notification's
// internal mutex) stay invisible, as in absl's own TSan build.
//
// Linked into every executable of a GG_TSAN build (root CMakeLists.txt);
// never into a normal or ASan build. Thread-safe: any thread may call these.
// Known gaps: Notification::HasBeenNotified() is inline (not interposable),
// so only WaitForNotification*() orders memory after Notify(); Await and
// CondVar waits are annotated as exclusive (nothing in this process waits
// while holding a reader lock).
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

#if !ABSL_OPTION_USE_INLINE_NAMESPACE
#error "absl_sync_annotations.cc spells symbols with absl's inline namespace"
#endif

// Bounds of this executable's code (GNU ld defines both), where everything
// is instrumented; shared libraries live elsewhere.
extern "C" const char __executable_start[];
extern "C" const char etext[];

namespace {

#define GG_TSAN_STR2(x) #x
#define GG_TSAN_STR(x) GG_TSAN_STR2(x)

// The real function of absl::<inline namespace>::<rest>, e.g. rest
// "5Mutex4LockEv" for absl::Mutex::Lock(); `nested` is "N" or "NK" (const).
template <typename F>
F Real(const char* nested, const char* rest) {
  const std::string ns = GG_TSAN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name = std::string("_Z") + nested + "4absl" +
                           std::to_string(ns.size()) + ns + rest;
  void* f = dlsym(RTLD_NEXT, name.c_str());
  if (f == nullptr) {
    std::fprintf(stderr, "absl_sync_annotations: %s not found\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

bool FromThisExecutable(const void* pc) {
  const char* p = static_cast<const char*>(pc);
  return p >= __executable_start && p < etext;
}

thread_local int tls_depth = 0;

// Marks one intercepted call; outer() is true for the outermost one.
class Scope {
 public:
  Scope() : outer_(tls_depth++ == 0) {}
  ~Scope() { --tls_depth; }
  bool outer() const { return outer_; }

 private:
  const bool outer_;
};

constexpr unsigned kRead = __tsan_mutex_read_lock;
constexpr unsigned kTry = __tsan_mutex_try_lock;
constexpr unsigned kTryFailed = __tsan_mutex_try_lock_failed;

// Runs `call` (which returns R) between a lock's pre and post annotations.
template <typename R, typename Call>
R Locking(void* mu, unsigned flags, Call call) {
  Scope scope;
  if (scope.outer()) __tsan_mutex_pre_lock(mu, flags);
  R r = call();
  if (scope.outer()) __tsan_mutex_post_lock(mu, flags, 0);
  return r;
}

template <typename R, typename Call>
R TryLocking(void* mu, unsigned flags, Call call) {
  Scope scope;
  if (scope.outer()) __tsan_mutex_pre_lock(mu, flags | kTry);
  R r = call();
  if (scope.outer()) {
    __tsan_mutex_post_lock(mu, flags | kTry | (r ? 0 : kTryFailed), 0);
  }
  return r;
}

template <typename Call>
void Unlocking(void* mu, unsigned flags, Call call) {
  Scope scope;
  if (scope.outer()) __tsan_mutex_pre_unlock(mu, flags);
  call();
  if (scope.outer()) __tsan_mutex_post_unlock(mu, flags);
}

// A wait that releases `mu` and holds it again on return (Await, CondVar).
template <typename R, typename Call>
R Waiting(void* mu, Call call) {
  Scope scope;
  if (scope.outer()) __tsan_mutex_pre_unlock(mu, 0);
  R r = call();
  if (scope.outer()) {
    __tsan_mutex_post_unlock(mu, 0);
    __tsan_mutex_pre_lock(mu, 0);
    __tsan_mutex_post_lock(mu, 0, 0);
  }
  return r;
}

// Happens-before edges for the objects that are not locks.
template <typename R, typename Call>
R Releasing(void* addr, Call call) {
  Scope scope;
  if (scope.outer()) __tsan_release(addr);
  return call();
}

template <typename Call>
bool Acquiring(void* addr, Call call) {
  Scope scope;
  const bool r = call();
  if (scope.outer() && r) __tsan_acquire(addr);
  return r;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

// TSan checks that no thread still uses (unlocks) a mutex being destroyed
// only when the destroy carries no __tsan_mutex_not_static flag (absl's
// inline constructor no longer announces the mutex: -U__SANITIZE_THREAD__).
// That check is kept for mutexes our (instrumented) code destroys; gRPC
// destroys its own after hand-offs TSan cannot see, so for a caller outside
// this executable the destroy stays a no-op, as absl's would be.
Mutex::~Mutex() {
  static auto real = Real<void (*)(Mutex*)>("N", "5MutexD2Ev");
  __tsan_mutex_destroy(this, FromThisExecutable(__builtin_return_address(0))
                                 ? 0
                                 : __tsan_mutex_not_static);
  real(this);
}

void Mutex::Lock() {
  static auto real = Real<void (*)(Mutex*)>("N", "5Mutex4LockEv");
  Locking<int>(this, 0, [&] { return real(this), 0; });
}

void Mutex::ReaderLock() {
  static auto real = Real<void (*)(Mutex*)>("N", "5Mutex10ReaderLockEv");
  Locking<int>(this, kRead, [&] { return real(this), 0; });
}

bool Mutex::TryLock() {
  static auto real = Real<bool (*)(Mutex*)>("N", "5Mutex7TryLockEv");
  return TryLocking<bool>(this, 0, [&] { return real(this); });
}

bool Mutex::ReaderTryLock() {
  static auto real = Real<bool (*)(Mutex*)>("N", "5Mutex13ReaderTryLockEv");
  return TryLocking<bool>(this, kRead, [&] { return real(this); });
}

void Mutex::Unlock() {
  static auto real = Real<void (*)(Mutex*)>("N", "5Mutex6UnlockEv");
  Unlocking(this, 0, [&] { real(this); });
}

void Mutex::ReaderUnlock() {
  static auto real = Real<void (*)(Mutex*)>("N", "5Mutex12ReaderUnlockEv");
  Unlocking(this, kRead, [&] { real(this); });
}

void Mutex::LockWhen(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      "N", "5Mutex8LockWhenERKNS0_9ConditionE");
  Locking<int>(this, 0, [&] { return real(this, cond), 0; });
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      "N", "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  Locking<int>(this, kRead, [&] { return real(this, cond), 0; });
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "N", "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Locking<bool>(this, 0, [&] { return real(this, cond, timeout); });
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "N", "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Locking<bool>(this, 0, [&] { return real(this, cond, deadline); });
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "N", "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  return Locking<bool>(this, kRead, [&] { return real(this, cond, timeout); });
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "N", "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  return Locking<bool>(this, kRead, [&] { return real(this, cond, deadline); });
}

// Await* return at once, without unlocking, when the condition already holds.
void Mutex::Await(const Condition& cond) {
  static auto real = Real<void (*)(Mutex*, const Condition&)>(
      "N", "5Mutex5AwaitERKNS0_9ConditionE");
  if (tls_depth == 0 && cond.Eval()) return;
  Waiting<int>(this, [&] { return real(this, cond), 0; });
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "N", "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  if (tls_depth == 0 && cond.Eval()) return true;
  return Waiting<bool>(this, [&] { return real(this, cond, timeout); });
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "N", "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  if (tls_depth == 0 && cond.Eval()) return true;
  return Waiting<bool>(this, [&] { return real(this, cond, deadline); });
}

void CondVar::Wait(Mutex* mu) {
  static auto real =
      Real<void (*)(CondVar*, Mutex*)>("N", "7CondVar4WaitEPNS0_5MutexE");
  Waiting<int>(mu, [&] { return real(this, mu), 0; });
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, Duration)>(
      "N", "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return Waiting<bool>(mu, [&] { return real(this, mu, timeout); });
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static auto real = Real<bool (*)(CondVar*, Mutex*, Time)>(
      "N", "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return Waiting<bool>(mu, [&] { return real(this, mu, deadline); });
}

void Notification::Notify() {
  static auto real =
      Real<void (*)(Notification*)>("N", "12Notification6NotifyEv");
  Releasing<int>(this, [&] { return real(this), 0; });
}

void Notification::WaitForNotification() const {
  static auto real = Real<void (*)(const Notification*)>(
      "NK", "12Notification19WaitForNotificationEv");
  Acquiring(const_cast<Notification*>(this), [&] { return real(this), true; });
}

bool Notification::WaitForNotificationWithTimeout(Duration timeout) const {
  static auto real = Real<bool (*)(const Notification*, Duration)>(
      "NK", "12Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  return Acquiring(const_cast<Notification*>(this),
                   [&] { return real(this, timeout); });
}

bool Notification::WaitForNotificationWithDeadline(Time deadline) const {
  static auto real = Real<bool (*)(const Notification*, Time)>(
      "NK", "12Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  return Acquiring(const_cast<Notification*>(this),
                   [&] { return real(this, deadline); });
}

bool BlockingCounter::DecrementCount() {
  static auto real = Real<bool (*)(BlockingCounter*)>(
      "N", "15BlockingCounter14DecrementCountEv");
  // The call that returns true also sees every earlier decrement.
  const bool last = Releasing<bool>(this, [&] { return real(this); });
  if (last && tls_depth == 0) __tsan_acquire(this);
  return last;
}

void BlockingCounter::Wait() {
  static auto real =
      Real<void (*)(BlockingCounter*)>("N", "15BlockingCounter4WaitEv");
  Acquiring(this, [&] { return real(this), true; });
}

ABSL_NAMESPACE_END
}  // namespace absl
