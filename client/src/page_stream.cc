#include "gitlab_gateway/client/page_stream.h"

#include <utility>

#include "gitlab_gateway/client/error.h"

namespace gitlab_gateway::client {

namespace v1 = ::gitlab::gateway::v1;

PageStream::PageStream(
    std::unique_ptr<grpc::ClientContext> context,
    std::unique_ptr<grpc::ClientReaderInterface<v1::Response>> reader)
    : context_(std::move(context)), reader_(std::move(reader)) {}

PageStream::PageStream(PageStream&& other) noexcept
    : context_(std::move(other.context_)),
      reader_(std::move(other.reader_)),
      status_(std::move(other.status_)),
      done_(other.done_),
      pages_read_(other.pages_read_) {
  other.done_ = true;
}

PageStream& PageStream::operator=(PageStream&& other) noexcept {
  if (this != &other) {
    Cancel();
    context_ = std::move(other.context_);
    reader_ = std::move(other.reader_);
    status_ = std::move(other.status_);
    done_ = other.done_;
    pages_read_ = other.pages_read_;
    other.done_ = true;
  }
  return *this;
}

PageStream::~PageStream() { Cancel(); }

bool PageStream::Next(v1::Response* page) {
  if (done_) return false;
  if (reader_->Read(page)) {
    ++pages_read_;
    return true;
  }
  Finish();
  return false;
}

void PageStream::Cancel() {
  if (done_) return;
  context_->TryCancel();
  // The sync API wants every message drained before Finish.
  v1::Response ignored;
  while (reader_->Read(&ignored)) {
  }
  Finish();
}

void PageStream::Finish() {
  done_ = true;
  status_ = ToAbslStatus(reader_->Finish());
}

PageStream::iterator::iterator(PageStream* stream)
    : stream_(stream), page_(std::make_shared<v1::Response>()) {
  ++*this;
}

PageStream::iterator& PageStream::iterator::operator++() {
  if (stream_ != nullptr && !stream_->Next(page_.get())) stream_ = nullptr;
  return *this;
}

}  // namespace gitlab_gateway::client
