#ifndef GITLAB_GATEWAY_SERVICE_SERVER_CPU_SCHEDULING_H_
#define GITLAB_GATEWAY_SERVICE_SERVER_CPU_SCHEDULING_H_

#include "absl/status/status.h"

namespace gitlab_gateway::server {

// Puts the calling thread under Linux's SCHED_BATCH policy; threads it
// creates afterwards inherit it. main() calls it before any thread starts
// (--sched_batch), so every gateway thread (gRPC's, the access log's, the
// WorkPool's) runs under it, except the engine's loop thread, which puts
// itself back under SCHED_OTHER (UseNormalScheduling, below).
//
// Why: one call crosses gRPC's callback threads and the engine thread. Under
// SCHED_OTHER each hand-off wakes a thread that preempts the one handing off,
// so every call costs two to three context switches (bench/README.md, issue
// 12: 2.5 per Execute). A SCHED_BATCH thread that is woken does not preempt
// the running one: the running thread finishes what is ready (the engine all
// answers that arrived, a gRPC thread all requests it read), and the next one
// finds a batch waiting: 0.3 switches per Execute. The engine thread stays
// SCHED_OTHER: it is the one every caller waits on, so when a submission or
// an answer wakes it, it runs at once (one call at a time: 20 us less added
// latency at p50 than with it under SCHED_BATCH too), and it still finishes
// its whole batch before the gRPC threads it woke run. SCHED_BATCH changes
// only wake-up preemption; nice value, CPU share and wake-ups onto idle cores
// are as under SCHED_OTHER, so an idle gateway answers as fast (added latency
// at one call at a time is unchanged in bench/).
//
// No privilege is needed (SCHED_BATCH is a normal-priority policy). Errors
// (a seccomp profile refusing sched_setscheduler) come back as INTERNAL with
// the errno text; the gateway then logs them and runs under SCHED_OTHER.
// Any thread; affects only the calling one and its future children.
absl::Status UseBatchScheduling();

// Puts the calling thread back under SCHED_OTHER (a no-op when it is). The
// engine's loop thread calls it first thing. Errors as above.
absl::Status UseNormalScheduling();

}  // namespace gitlab_gateway::server

#endif  // GITLAB_GATEWAY_SERVICE_SERVER_CPU_SCHEDULING_H_
