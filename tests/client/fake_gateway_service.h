#ifndef GITLAB_GATEWAY_TESTS_CLIENT_FAKE_GATEWAY_SERVICE_H_
#define GITLAB_GATEWAY_TESTS_CLIENT_FAKE_GATEWAY_SERVICE_H_

// A scripted gitlab.gateway.v1.Gateway on 127.0.0.1:0 (gRPC sync API), for
// client behaviour the real gateway cannot show on demand: the metadata and
// deadline a call arrives with, and Paginate streams that end cleanly, fail
// mid-way, or go on until the client cancels.
//
//   Execute: records x-caller metadata and the deadline; echoes the id.
//   Paginate path "/pages": max_pages pages (3 when 0), id "page-<n>".
//            path "/fail-after-one": one page, then NOT_FOUND with an
//            ErrorInfo{GITLAB_NOT_FOUND} detail.
//            path "/endless": a page every 5 ms until cancelled (<= 10 s).
//
// gRPC calls the handlers on its threads; the recorded values are guarded.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gitlab/gateway/v1/gateway.grpc.pb.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace gitlab_gateway::testing {

class FakeGatewayService final
    : public ::gitlab::gateway::v1::Gateway::Service {
 public:
  using Request = ::gitlab::gateway::v1::Request;
  using Response = ::gitlab::gateway::v1::Response;

  grpc::Status Execute(grpc::ServerContext* context, const Request* request,
                       Response* response) override {
    absl::MutexLock lock(&mu_);
    auto caller = context->client_metadata().find("x-caller");
    last_caller_ =
        caller == context->client_metadata().end()
            ? ""
            : std::string(caller->second.data(), caller->second.size());
    last_deadline_left_ = absl::FromChrono(context->deadline()) - absl::Now();
    response->set_id(request->id());
    response->set_status_code(200);
    return grpc::Status::OK;
  }

  grpc::Status Paginate(grpc::ServerContext* context,
                        const ::gitlab::gateway::v1::PaginateRequest* request,
                        grpc::ServerWriter<Response>* writer) override {
    const std::string& path = request->request().path();
    if (path == "/pages") {
      int pages = request->max_pages() > 0 ? request->max_pages() : 3;
      for (int n = 1; n <= pages; ++n) writer->Write(Page(n));
      return grpc::Status::OK;
    }
    if (path == "/fail-after-one") {
      writer->Write(Page(1));
      google::rpc::ErrorInfo info;
      info.set_reason("GITLAB_NOT_FOUND");
      info.set_domain("gitlab.example.com");
      google::rpc::Status rpc;
      rpc.set_code(grpc::StatusCode::NOT_FOUND);
      rpc.set_message("GitLab 404: Project Not Found");
      rpc.add_details()->PackFrom(info);
      return grpc::Status(grpc::StatusCode::NOT_FOUND, rpc.message(),
                          rpc.SerializeAsString());
    }
    if (path == "/endless") {
      const absl::Time stop = absl::Now() + absl::Seconds(10);
      for (int n = 1; absl::Now() < stop && !context->IsCancelled(); ++n) {
        if (!writer->Write(Page(n))) break;
        ++endless_pages_;
        absl::SleepFor(absl::Milliseconds(5));
      }
      if (context->IsCancelled()) endless_cancelled_.Notify();
      return grpc::Status::CANCELLED;
    }
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "unknown path");
  }

  std::string last_caller() const {
    absl::MutexLock lock(&mu_);
    return last_caller_;
  }
  absl::Duration last_deadline_left() const {
    absl::MutexLock lock(&mu_);
    return last_deadline_left_;
  }
  bool WaitForEndlessCancelled(absl::Duration timeout) {
    return endless_cancelled_.WaitForNotificationWithTimeout(timeout);
  }

 private:
  static Response Page(int n) {
    Response page;
    page.set_id(absl::StrCat("page-", n));
    page.set_status_code(200);
    page.set_text(absl::StrCat("[", n, "]"));
    page.mutable_page()->set_page(n);
    return page;
  }

  mutable absl::Mutex mu_;
  std::string last_caller_ ABSL_GUARDED_BY(mu_);
  absl::Duration last_deadline_left_ ABSL_GUARDED_BY(mu_);
  std::atomic<int> endless_pages_{0};
  absl::Notification endless_cancelled_;
};

// The fake service served on 127.0.0.1:<ephemeral>.
struct FakeGateway {
  FakeGateway() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                  grpc::InsecureChannelCredentials());
  }
  ~FakeGateway() { server->Shutdown(absl::ToChronoTime(absl::Now())); }

  FakeGatewayService service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<grpc::Channel> channel;
};

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_CLIENT_FAKE_GATEWAY_SERVICE_H_
