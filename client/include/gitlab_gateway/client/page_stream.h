#ifndef GITLAB_GATEWAY_CLIENT_PAGE_STREAM_H_
#define GITLAB_GATEWAY_CLIENT_PAGE_STREAM_H_

// The pages of one Paginate call, read one at a time as the gateway streams
// them. Returned by Client::Paginate. Not thread-safe: one thread reads.
//
//   PageStream pages = client.Paginate(request);
//   for (const ::gitlab::gateway::v1::Response& page : pages)
//   Print(page.text()); if (!pages.status().ok())
//   Report(DecodeError(pages.status()));
//
// Destroying a stream before its end cancels the call.

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <iterator>
#include <memory>

#include "absl/status/status.h"
#include "gitlab/gateway/v1/gateway.grpc.pb.h"

namespace gitlab_gateway::client {

class PageStream {
 public:
  // Takes over a started call. Client::Paginate builds it.
  PageStream(std::unique_ptr<grpc::ClientContext> context,
             std::unique_ptr<
                 grpc::ClientReaderInterface<::gitlab::gateway::v1::Response>>
                 reader);
  PageStream(PageStream&&) noexcept;
  PageStream& operator=(PageStream&&) noexcept;
  ~PageStream();

  // Blocks for the next page. False at the end of the stream or on error;
  // status() then tells which.
  bool Next(::gitlab::gateway::v1::Response* page);

  // OK while pages keep coming and after a clean end; the call's error
  // (decodable with DecodeError) once Next returned false because of one.
  const absl::Status& status() const { return status_; }
  bool done() const { return done_; }
  int pages_read() const { return pages_read_; }

  // Stops the call; Next returns false and status() is CANCELLED (unless
  // the stream had already ended). Safe to call more than once.
  void Cancel();

  // Single-pass input iterator over the remaining pages.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = ::gitlab::gateway::v1::Response;
    using difference_type = std::ptrdiff_t;
    using pointer = const ::gitlab::gateway::v1::Response*;
    using reference = const ::gitlab::gateway::v1::Response&;

    iterator() = default;
    reference operator*() const { return *page_; }
    pointer operator->() const { return page_.get(); }
    iterator& operator++();
    bool operator==(const iterator& other) const {
      return stream_ == other.stream_;
    }
    bool operator!=(const iterator& other) const { return !(*this == other); }

   private:
    friend class PageStream;
    explicit iterator(PageStream* stream);

    PageStream* stream_ = nullptr;  // nullptr: the end
    std::shared_ptr<::gitlab::gateway::v1::Response> page_;
  };
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  void Finish();

  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReaderInterface<::gitlab::gateway::v1::Response>>
      reader_;
  absl::Status status_;
  bool done_ = false;
  int pages_read_ = 0;
};

}  // namespace gitlab_gateway::client

#endif  // GITLAB_GATEWAY_CLIENT_PAGE_STREAM_H_
