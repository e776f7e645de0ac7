#include "service/engine/byte_budget.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace gitlab_gateway::engine {

ByteBudget::ByteBudget(std::string name, size_t capacity)
    : name_(std::move(name)), capacity_(capacity) {}

bool ByteBudget::TryCharge(size_t bytes) {
  size_t used = used_.load(std::memory_order_relaxed);
  do {
    if (bytes > capacity_ || used > capacity_ - bytes) {
      refusals_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
  } while (!used_.compare_exchange_weak(used, used + bytes,
                                        std::memory_order_relaxed));
  RaisePeak(used + bytes);
  return true;
}

void ByteBudget::Charge(size_t bytes) {
  RaisePeak(used_.fetch_add(bytes, std::memory_order_relaxed) + bytes);
}

void ByteBudget::Release(size_t bytes) {
  used_.fetch_sub(bytes, std::memory_order_relaxed);
}

void ByteBudget::RaisePeak(size_t used) {
  size_t peak = peak_.load(std::memory_order_relaxed);
  while (used > peak &&
         !peak_.compare_exchange_weak(peak, used, std::memory_order_relaxed)) {
  }
}

std::string ByteBudget::Describe() const {
  const std::string size =
      capacity_ >= (size_t{1} << 20) && capacity_ % (size_t{1} << 20) == 0
          ? absl::StrCat(capacity_ >> 20, " MiB")
          : absl::StrCat(capacity_, " bytes");
  return absl::StrCat("the ", name_, " memory budget (", size, ")");
}

}  // namespace gitlab_gateway::engine
