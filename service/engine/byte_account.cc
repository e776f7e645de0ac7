#include "service/engine/byte_account.h"

#include <utility>

namespace gitlab_gateway::engine {

ByteAccount::ByteAccount(std::shared_ptr<ByteBudget> stream,
                         std::shared_ptr<ByteBudget> gateway)
    : stream_(std::move(stream)), gateway_(std::move(gateway)) {}

ByteAccount::~ByteAccount() { ReleaseAll(); }

bool ByteAccount::TryCharge(size_t bytes, const ByteBudget** refused) {
  if (stream_ != nullptr && !stream_->TryCharge(bytes)) {
    if (refused != nullptr) *refused = stream_.get();
    return false;
  }
  if (gateway_ != nullptr && !gateway_->TryCharge(bytes)) {
    if (stream_ != nullptr) stream_->Release(bytes);
    if (refused != nullptr) *refused = gateway_.get();
    return false;
  }
  charged_.fetch_add(bytes, std::memory_order_relaxed);
  return true;
}

void ByteAccount::Release(size_t bytes) {
  charged_.fetch_sub(bytes, std::memory_order_relaxed);
  if (stream_ != nullptr) stream_->Release(bytes);
  if (gateway_ != nullptr) gateway_->Release(bytes);
}

void ByteAccount::ChargeExactly(size_t bytes) {
  const size_t before = charged_.exchange(bytes, std::memory_order_relaxed);
  if (bytes > before) {
    if (stream_ != nullptr) stream_->Charge(bytes - before);
    if (gateway_ != nullptr) gateway_->Charge(bytes - before);
  } else if (before > bytes) {
    if (stream_ != nullptr) stream_->Release(before - bytes);
    if (gateway_ != nullptr) gateway_->Release(before - bytes);
  }
}

}  // namespace gitlab_gateway::engine
