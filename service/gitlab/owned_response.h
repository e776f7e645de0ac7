#ifndef GITLAB_GATEWAY_SERVICE_GITLAB_OWNED_RESPONSE_H_
#define GITLAB_GATEWAY_SERVICE_GITLAB_OWNED_RESPONSE_H_

#include <google/protobuf/arena.h>

#include <cstddef>
#include <memory>

#include "gitlab/gateway/v1/gateway.pb.h"

namespace gitlab_gateway::gitlab {

// A v1::Response on a protobuf arena of its own, which starts in a 4 KiB
// block allocated together with it: an answer's header messages and strings
// (19 headers: 57 heap allocations and as many frees per call on the heap)
// come out of that one block, and are freed with it at once. Moves hand the
// arena over (no copy); a moved-from OwnedResponse holds nothing and must
// not be dereferenced.
//
//   OwnedResponse response;
//   response->set_id("a1");
//   stream->Write(*response);
//
// Not thread-safe; one thread at a time, like the message itself.
class OwnedResponse {
 public:
  // The first block: a typical answer (a JSON object and ~20 headers) fits.
  static constexpr size_t kFirstBlockBytes = 4096;

  OwnedResponse();
  OwnedResponse(OwnedResponse&& other) noexcept;
  OwnedResponse& operator=(OwnedResponse&& other) noexcept;
  OwnedResponse(const OwnedResponse&) = delete;
  OwnedResponse& operator=(const OwnedResponse&) = delete;
  ~OwnedResponse();

  ::gitlab::gateway::v1::Response* get() const { return message_; }
  ::gitlab::gateway::v1::Response* operator->() const { return message_; }
  ::gitlab::gateway::v1::Response& operator*() const { return *message_; }

 private:
  struct Slab;
  std::unique_ptr<Slab> slab_;
  ::gitlab::gateway::v1::Response* message_ = nullptr;  // on slab_'s arena
};

}  // namespace gitlab_gateway::gitlab

#endif  // GITLAB_GATEWAY_SERVICE_GITLAB_OWNED_RESPONSE_H_
