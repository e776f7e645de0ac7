#include "service/gitlab/owned_response.h"

#include <utility>

namespace gitlab_gateway::gitlab {

namespace {

google::protobuf::ArenaOptions FirstBlock(char* block, size_t size) {
  google::protobuf::ArenaOptions options;
  options.initial_block = block;
  options.initial_block_size = size;
  return options;
}

}  // namespace

// The arena and its first block in one allocation. `block` is declared
// first: it exists before the arena that is given it.
struct OwnedResponse::Slab {
  alignas(std::max_align_t) char block[kFirstBlockBytes];
  google::protobuf::Arena arena{FirstBlock(block, sizeof(block))};
};

OwnedResponse::OwnedResponse()
    : slab_(new Slab),  // not make_unique: no need to zero the block
      message_(google::protobuf::Arena::CreateMessage<
               ::gitlab::gateway::v1::Response>(&slab_->arena)) {}

OwnedResponse::OwnedResponse(OwnedResponse&& other) noexcept
    : slab_(std::move(other.slab_)),
      message_(std::exchange(other.message_, nullptr)) {}

OwnedResponse& OwnedResponse::operator=(OwnedResponse&& other) noexcept {
  if (this != &other) {
    slab_ = std::move(other.slab_);  // frees what this held
    message_ = std::exchange(other.message_, nullptr);
  }
  return *this;
}

// The arena runs the message's destructors; nothing to delete by hand.
OwnedResponse::~OwnedResponse() = default;

}  // namespace gitlab_gateway::gitlab
