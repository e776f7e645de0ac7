// ThreadSanitizer annotations for Debian's gRPC core library.
//
// gRPC's completion-queue contract: everything a thread did before
// grpc_call_start_batch(..., tag) (or before requesting a call with `tag`)
// happens before the thread that receives `tag` from
// grpc_completion_queue_next/pluck. libgrpc keeps that promise with code TSan
// cannot see (it is not built with TSan), while both ends run instrumented
// code: grpc++'s inline CallOpSet fills a batch on the thread that calls
// StartWrite (the engine thread, for BatchExecute answers) and finalizes it
// on the callback queue's "nexting_thread". Without this edge every
// streaming write looks like a race inside grpcpp/impl/call_op_set.h.
//
// Each function interposes the libgrpc symbol (see absl_sync_annotations.cc
// for how) and adds __tsan_release(tag) before a tag is handed to gRPC and
// __tsan_acquire(tag) after gRPC hands it back, and otherwise only forwards.
//
// The callback API's other promise: OnDone runs after every other reaction
// of the RPC returned. gRPC counts outstanding reactions in
// ServerCallbackCall::callbacks_outstanding_ and calls ScheduleOnDone once,
// from whichever thread drops the count to zero. Most decrements run in
// instrumented header code (an acq_rel RMW TSan sees), but libgrpc++ drops
// it uninstrumented after OnCancel (run on its executor) and in the
// ServerContext's completion op. So: CallOnCancel hands gRPC a proxy reactor
// whose OnCancel runs the real one and then releases on the counter, and
// ScheduleOnDone acquires from the counter before OnDone is scheduled.
//
// Linked into every executable of a GG_TSAN build; thread-safe.
#include <dlfcn.h>
#include <grpc/grpc.h>
#include <grpcpp/support/server_callback.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

namespace {

template <typename F>
F Real(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "grpc_annotations: %s not found\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

void Received(const grpc_event& ev) {
  if (ev.type == GRPC_OP_COMPLETE && ev.tag != nullptr) __tsan_acquire(ev.tag);
}

}  // namespace

extern "C" {

grpc_call_error grpc_call_start_batch(grpc_call* call, const grpc_op* ops,
                                      size_t nops, void* tag, void* reserved) {
  static auto real =
      Real<decltype(&grpc_call_start_batch)>("grpc_call_start_batch");
  if (tag != nullptr) __tsan_release(tag);
  return real(call, ops, nops, tag, reserved);
}

grpc_call_error grpc_server_request_call(
    grpc_server* server, grpc_call** call, grpc_call_details* details,
    grpc_metadata_array* request_metadata,
    grpc_completion_queue* cq_bound_to_call,
    grpc_completion_queue* cq_for_notification, void* tag_new) {
  static auto real =
      Real<decltype(&grpc_server_request_call)>("grpc_server_request_call");
  if (tag_new != nullptr) __tsan_release(tag_new);
  return real(server, call, details, request_metadata, cq_bound_to_call,
              cq_for_notification, tag_new);
}

grpc_call_error grpc_server_request_registered_call(
    grpc_server* server, void* registered_method, grpc_call** call,
    gpr_timespec* deadline, grpc_metadata_array* request_metadata,
    grpc_byte_buffer** optional_payload,
    grpc_completion_queue* cq_bound_to_call,
    grpc_completion_queue* cq_for_notification, void* tag_new) {
  static auto real = Real<decltype(&grpc_server_request_registered_call)>(
      "grpc_server_request_registered_call");
  if (tag_new != nullptr) __tsan_release(tag_new);
  return real(server, registered_method, call, deadline, request_metadata,
              optional_payload, cq_bound_to_call, cq_for_notification, tag_new);
}

grpc_event grpc_completion_queue_next(grpc_completion_queue* cq,
                                      gpr_timespec deadline, void* reserved) {
  static auto real =
      Real<decltype(&grpc_completion_queue_next)>("grpc_completion_queue_next");
  const grpc_event ev = real(cq, deadline, reserved);
  Received(ev);
  return ev;
}

grpc_event grpc_completion_queue_pluck(grpc_completion_queue* cq, void* tag,
                                       gpr_timespec deadline, void* reserved) {
  static auto real = Real<decltype(&grpc_completion_queue_pluck)>(
      "grpc_completion_queue_pluck");
  const grpc_event ev = real(cq, tag, deadline, reserved);
  Received(ev);
  return ev;
}

}  // extern "C"

namespace grpc::internal {
namespace {

// Runs `reactor`'s OnCancel, then releases on the call's reaction counter.
// gRPC calls OnCancel exactly once on what CallOnCancel was given.
class CancelProxy final : public ServerReactor {
 public:
  CancelProxy(ServerReactor* reactor, std::atomic_int* outstanding)
      : reactor_(reactor), outstanding_(outstanding) {}

  void OnCancel() override {
    reactor_->OnCancel();
    __tsan_release(outstanding_);
    delete this;
  }
  void OnDone() override {
    std::fprintf(stderr, "grpc_annotations: OnDone on a CancelProxy\n");
    std::abort();
  }
  bool InternalInlineable() override { return reactor_->InternalInlineable(); }

 private:
  ServerReactor* const reactor_;
  std::atomic_int* const outstanding_;
};

}  // namespace

void ServerCallbackCall::CallOnCancel(ServerReactor* reactor) {
  static auto real = Real<void (*)(ServerCallbackCall*, ServerReactor*)>(
      "_ZN4grpc8internal18ServerCallbackCall12CallOnCancelEPNS0_"
      "13ServerReactorE");
  real(this, new CancelProxy(reactor, &callbacks_outstanding_));
}

void ServerCallbackCall::ScheduleOnDone(bool inline_ondone) {
  static auto real = Real<void (*)(ServerCallbackCall*, bool)>(
      "_ZN4grpc8internal18ServerCallbackCall14ScheduleOnDoneEb");
  __tsan_acquire(&callbacks_outstanding_);
  real(this, inline_ondone);
}

}  // namespace grpc::internal
