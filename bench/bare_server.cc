// gg_bare_server: the floor of what a gRPC 1.51 callback server costs for the
// gateway's API with no upstream at all. Execute answers at once with a fixed
// Response shaped like the gateway's answer to the benchmark's GET (the
// fixture body, 19 headers, page and rate-limit fields); BatchExecute answers
// each item with it (its id echoed), reading and writing concurrently. `make
// bench` adds its CPU per call to gg_curl_direct's per request: the floor
// issue #12 measures the gateway against. With --hold 1, Execute answers only
// when cancelled: gRPC's own memory per call in flight. Prints "port N" once
// listening.
//
//   gg_bare_server --port 0 --body bench/fixtures/project.json [--hold 1]
//                  [--arg grpc.minimal_stack=1 ...]
#include <grpcpp/grpcpp.h>

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "gitlab/gateway/v1/gateway.grpc.pb.h"

namespace {

namespace v1 = ::gitlab::gateway::v1;

std::string Flag(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

// What the gateway answers for the benchmark's GET /projects/42.
v1::Response Answer(const std::string& body) {
  v1::Response response;
  response.set_status_code(200);
  const char* headers[][2] = {
#include "bench/fixtures/answer_headers.inc"
  };
  for (const auto& h : headers) {
    v1::Header* header = response.add_headers();
    header->set_name(h[0]);
    header->set_value(h[1]);
  }
  response.set_text(body);
  response.mutable_rate_limit()->set_limit(2000);
  response.mutable_rate_limit()->set_remaining(1999);
  response.mutable_rate_limit()->set_observed(1);
  response.mutable_rate_limit()->mutable_reset()->set_seconds(1718700060);
  response.mutable_rate_limit()->set_name("throttle_authenticated_api");
  response.set_attempts(1);
  response.mutable_upstream_latency()->set_nanos(80000);
  return response;
}

// One BatchExecute stream: every read starts the next read at once; answers
// are written one at a time, in arrival order.
class EchoStream final
    : public grpc::ServerBidiReactor<v1::Request, v1::Response> {
 public:
  explicit EchoStream(const v1::Response* answer) : answer_(answer) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (!ok) {
      reading_ = false;
      MaybeFinish();
      return;
    }
    ids_.push_back(request_.id());
    if (!writing_) WriteNext();
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) {
      ids_.clear();
      reading_ = false;
    }
    if (!ids_.empty()) {
      WriteNext();
    } else {
      MaybeFinish();
    }
  }

  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    response_ = *answer_;
    response_.set_id(ids_.front());
    ids_.erase(ids_.begin());
    writing_ = true;
    StartWrite(&response_);
  }
  void MaybeFinish() {
    if (!reading_ && !writing_ && ids_.empty() && !finished_) {
      finished_ = true;
      Finish(grpc::Status::OK);
    }
  }

  const v1::Response* const answer_;
  v1::Request request_;
  v1::Response response_;
  std::mutex mu_;
  std::vector<std::string> ids_;
  bool reading_ = true;
  bool writing_ = false;
  bool finished_ = false;
};

// --hold: an Execute that answers only when the caller cancels it (gRPC's
// own memory per call in flight, the floor of bench's 10,000-call run).
class HeldCall final : public grpc::ServerUnaryReactor {
 public:
  void OnCancel() override { Finish(grpc::Status::CANCELLED); }
  void OnDone() override { delete this; }
};

class BareGateway final : public v1::Gateway::CallbackService {
 public:
  BareGateway(v1::Response answer, bool hold)
      : answer_(std::move(answer)), hold_(hold) {}

  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* context,
                                    const v1::Request* request,
                                    v1::Response* response) override {
    if (hold_) return new HeldCall;
    *response = answer_;
    response->set_id(request->id());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerBidiReactor<v1::Request, v1::Response>* BatchExecute(
      grpc::CallbackServerContext*) override {
    return new EchoStream(&answer_);
  }

 private:
  const v1::Response answer_;
  const bool hold_;
};

}  // namespace

int main(int argc, char** argv) {
  // Blocked before gRPC starts its threads, which inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const std::string port = Flag(argc, argv, "--port", "0");
  std::ifstream file(Flag(argc, argv, "--body", "bench/fixtures/project.json"));
  if (!file) {
    std::fprintf(stderr, "bare_server: cannot read --body\n");
    return 2;
  }
  std::stringstream body;
  body << file.rdbuf();
  BareGateway service(Answer(body.str()),
                      Flag(argc, argv, "--hold", "0") == std::string("1"));
  int bound = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:" + port,
                           grpc::InsecureServerCredentials(), &bound);
  builder.RegisterService(&service);
  // --arg name=value (integer channel arguments, repeatable): what gRPC's
  // own knobs do to its cost per call (bench/README.md, memory).
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--arg") != 0) continue;
    std::string arg = argv[i + 1];
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      std::fprintf(stderr, "bare_server: --arg needs name=value\n");
      return 2;
    }
    builder.AddChannelArgument(arg.substr(0, eq),
                               std::atoi(arg.c_str() + eq + 1));
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || bound == 0) {
    std::fprintf(stderr, "bare_server: cannot listen on port %s\n",
                 port.c_str());
    return 1;
  }
  std::printf("port %d\n", bound);
  std::fflush(stdout);
  int signal = 0;
  sigwait(&signals, &signal);
  server->Shutdown();
  return 0;
}
