#ifndef GITLAB_GATEWAY_SERVICE_ENGINE_BYTE_ACCOUNT_H_
#define GITLAB_GATEWAY_SERVICE_ENGINE_BYTE_ACCOUNT_H_

#include <atomic>
#include <cstddef>
#include <memory>

#include "service/engine/byte_budget.h"

namespace gitlab_gateway::engine {

// The bytes one call's answer holds, charged to up to two budgets at once
// (its stream's and the gateway's) and released together. Shared between
// the engine, whose write callback charges each received chunk (a chunk that
// does not fit fails the transfer), and the caller, which keeps the answer
// until it is written and then calls ReleaseAll.
//
// Any thread; every method is O(1). The destructor releases what is left,
// so an account dropped on any path gives its bytes back.
//
//   auto account = std::make_shared<ByteAccount>(stream, gateway);
//   request.account = account;            // the engine charges the body
//   ... on completion: account->ChargeExactly(size of what is kept);
//   ... once written:  account->ReleaseAll();
class ByteAccount {
 public:
  // Either budget may be null (not charged).
  ByteAccount(std::shared_ptr<ByteBudget> stream,
              std::shared_ptr<ByteBudget> gateway);
  ~ByteAccount();

  ByteAccount(const ByteAccount&) = delete;
  ByteAccount& operator=(const ByteAccount&) = delete;

  // Charges both budgets, or neither: returns false and sets `*refused`
  // (when given) to the budget that had no room.
  bool TryCharge(size_t bytes, const ByteBudget** refused = nullptr);
  // Gives back `bytes` of what this account charged (a discarded body).
  void Release(size_t bytes);
  // Makes the charge exactly `bytes` whatever the capacities: the size of
  // what the caller finally keeps (a serialized answer), already in memory.
  void ChargeExactly(size_t bytes);
  void ReleaseAll() { ChargeExactly(0); }

  size_t charged() const { return charged_.load(std::memory_order_relaxed); }

 private:
  const std::shared_ptr<ByteBudget> stream_;
  const std::shared_ptr<ByteBudget> gateway_;
  std::atomic<size_t> charged_{0};
};

}  // namespace gitlab_gateway::engine

#endif  // GITLAB_GATEWAY_SERVICE_ENGINE_BYTE_ACCOUNT_H_
