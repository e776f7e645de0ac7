#include "service/server/cpu_scheduling.h"

#include <sched.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gitlab_gateway::server {

absl::Status UseBatchScheduling() {
  sched_param param{};
  param.sched_priority = 0;  // the only priority SCHED_BATCH allows
  if (sched_setscheduler(0, SCHED_BATCH, &param) != 0) {
    return absl::InternalError(
        absl::StrCat("sched_batch: sched_setscheduler(SCHED_BATCH) failed: ",
                     std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status UseNormalScheduling() {
  if (sched_getscheduler(0) == SCHED_OTHER) return absl::OkStatus();
  sched_param param{};
  if (sched_setscheduler(0, SCHED_OTHER, &param) != 0) {
    return absl::InternalError(absl::StrCat(
        "sched_setscheduler(SCHED_OTHER) failed: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace gitlab_gateway::server
