// gg_loadgen: drives the gateway with the gRPC callback API and prints one
// line of key=value results.
//
//   unary: --concurrency C calls to Execute in flight at all times, for
//          --seconds S or --requests N, whichever comes first.
//   batch: --streams S BatchExecute streams at once, --items N each; every
//          item's latency runs from its write to its answer. --streams 1
//          --items 2000 against a 20 ms upstream is the fan-out benchmark.
//   hold:  --calls N Execute calls started at once (to a stalled upstream),
//          held for --hold_seconds, then cancelled: memory with N in flight.
//
//   gg_loadgen --target 127.0.0.1:50051 --mode unary --concurrency 64 --seconds
//   5
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gitlab/gateway/v1/gateway.grpc.pb.h"

namespace {

namespace v1 = ::gitlab::gateway::v1;
using Clock = std::chrono::steady_clock;

std::string Flag(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double Micros(Clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

// Latencies and outcomes from any callback thread.
class Stats {
 public:
  void Ok(double latency_us) {
    std::lock_guard<std::mutex> lock(mu_);
    latencies_us_.push_back(latency_us);
  }
  void Error(const std::string& message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (errors_++ == 0) first_error_ = message;
  }
  // Prints the summary line; `units` counts calls or items.
  void Print(const char* mode, double wall_s, double cpu_s) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t ok = latencies_us_.size();
    double p50 = Percentile(0.50), p99 = Percentile(0.99);
    std::printf(
        "mode=%s requests=%zu errors=%ld seconds=%.3f rps=%.1f p50_us=%.1f "
        "p99_us=%.1f client_cpu_us_per_req=%.2f\n",
        mode, ok + static_cast<size_t>(errors_), errors_, wall_s,
        (ok + errors_) / wall_s, p50, p99, ok ? cpu_s * 1e6 / ok : 0.0);
    if (errors_ > 0)
      std::fprintf(stderr, "loadgen: first error: %s\n", first_error_.c_str());
    std::fflush(stdout);
  }
  long errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }

 private:
  double Percentile(double p) {
    if (latencies_us_.empty()) return 0;
    size_t k = std::min(latencies_us_.size() - 1,
                        static_cast<size_t>(p * latencies_us_.size()));
    std::nth_element(latencies_us_.begin(),
                     latencies_us_.begin() + static_cast<long>(k),
                     latencies_us_.end());
    return latencies_us_[k];
  }

  std::mutex mu_;
  std::vector<double> latencies_us_;
  long errors_ = 0;
  std::string first_error_;
};

// Counts down to zero and wakes the waiter.
class Latch {
 public:
  explicit Latch(long n) : n_(n) {}
  void Done() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--n_ == 0) cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return n_ <= 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  long n_;
};

std::vector<std::unique_ptr<v1::Gateway::Stub>> Stubs(const std::string& target,
                                                      int channels) {
  std::vector<std::unique_ptr<v1::Gateway::Stub>> stubs;
  for (int i = 0; i < channels; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("gg.bench.channel", i);  // distinct args: distinct connections
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(64 << 20);
    stubs.push_back(v1::Gateway::NewStub(grpc::CreateCustomChannel(
        target, grpc::InsecureChannelCredentials(), args)));
  }
  return stubs;
}

// `concurrency` slots, each running Execute calls back to back.
int RunUnary(std::vector<std::unique_ptr<v1::Gateway::Stub>>& stubs,
             const v1::Request& request, int concurrency, double seconds,
             long limit, Stats& stats) {
  struct Slot {
    std::unique_ptr<grpc::ClientContext> context;
    v1::Response response;
    Clock::time_point started;
    v1::Gateway::Stub* stub = nullptr;
  };
  std::vector<Slot> slots(static_cast<size_t>(concurrency));
  std::atomic<long> started{0};
  const Clock::time_point begin = Clock::now();
  const Clock::time_point end =
      begin + std::chrono::microseconds(static_cast<long>(seconds * 1e6));
  Latch idle(concurrency);
  const double cpu_begin = CpuSeconds();

  std::function<void(Slot*)> start = [&](Slot* slot) {
    if ((limit > 0 && started.fetch_add(1) >= limit) || Clock::now() >= end) {
      idle.Done();
      return;
    }
    slot->context = std::make_unique<grpc::ClientContext>();
    slot->context->set_deadline(std::chrono::system_clock::now() +
                                std::chrono::seconds(30));
    slot->response.Clear();
    slot->started = Clock::now();
    slot->stub->async()->Execute(
        slot->context.get(), &request, &slot->response,
        [&, slot](grpc::Status status) {
          if (status.ok()) {
            stats.Ok(Micros(Clock::now() - slot->started));
          } else {
            stats.Error(std::to_string(status.error_code()) + " " +
                        status.error_message());
          }
          start(slot);
        });
  };
  for (size_t i = 0; i < slots.size(); ++i) {
    slots[i].stub = stubs[i % stubs.size()].get();
    start(&slots[i]);
  }
  idle.Wait();
  stats.Print("unary",
              std::chrono::duration<double>(Clock::now() - begin).count(),
              CpuSeconds() - cpu_begin);
  return stats.errors() == 0 ? 0 : 1;
}

// One BatchExecute stream: writes `items` requests one write at a time and
// reads the answers as they come.
class BatchStream final
    : public grpc::ClientBidiReactor<v1::Request, v1::Response> {
 public:
  BatchStream(v1::Gateway::Stub* stub, const v1::Request& request, long items,
              Stats* stats, Latch* done)
      : request_(request),
        items_(items),
        sent_at_(static_cast<size_t>(items)),
        stats_(stats),
        done_(done) {
    context_.set_deadline(std::chrono::system_clock::now() +
                          std::chrono::minutes(2));
    stub->async()->BatchExecute(&context_, this);
  }

  void Go() {
    StartRead(&response_);
    WriteNext();
    StartCall();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return;  // the stream broke; OnDone reports it
    if (written_ < items_) {
      WriteNext();
    } else {
      StartWritesDone();
    }
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;
    long index = std::atol(response_.id().c_str());
    if (response_.has_error()) {
      stats_->Error(response_.error().message());
    } else if (index >= 0 && index < items_) {
      stats_->Ok(Micros(Clock::now() - sent_at_[static_cast<size_t>(index)]));
    }
    ++read_;
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    if (!status.ok()) {
      stats_->Error("stream: " + std::to_string(status.error_code()) + " " +
                    status.error_message());
    } else if (read_ != items_) {
      stats_->Error("stream: answers missing");
    }
    done_->Done();
  }

 private:
  void WriteNext() {
    request_.set_id(std::to_string(written_));
    sent_at_[static_cast<size_t>(written_)] = Clock::now();
    ++written_;
    StartWrite(&request_);
  }

  grpc::ClientContext context_;
  v1::Request request_;
  v1::Response response_;
  const long items_;
  long written_ = 0;
  long read_ = 0;
  std::vector<Clock::time_point> sent_at_;
  Stats* const stats_;
  Latch* const done_;
};

int RunBatch(std::vector<std::unique_ptr<v1::Gateway::Stub>>& stubs,
             const v1::Request& request, int streams, long items,
             Stats& stats) {
  Latch done(streams);
  std::vector<std::unique_ptr<BatchStream>> all;
  for (int i = 0; i < streams; ++i) {
    all.push_back(std::make_unique<BatchStream>(
        stubs[static_cast<size_t>(i) % stubs.size()].get(), request, items,
        &stats, &done));
  }
  const double cpu_begin = CpuSeconds();
  const Clock::time_point begin = Clock::now();
  for (auto& stream : all) stream->Go();
  done.Wait();
  double wall = std::chrono::duration<double>(Clock::now() - begin).count();
  stats.Print("batch", wall, CpuSeconds() - cpu_begin);
  std::printf("wall_ms=%.1f\n", wall * 1e3);
  return stats.errors() == 0 ? 0 : 1;
}

// `calls` Execute calls at once, held, then cancelled.
int RunHold(std::vector<std::unique_ptr<v1::Gateway::Stub>>& stubs,
            const v1::Request& request, long calls, double hold_seconds) {
  struct Call {
    grpc::ClientContext context;
    v1::Response response;
  };
  std::vector<std::unique_ptr<Call>> all;
  std::atomic<long> failed_early{0};
  std::atomic<long> cancelled{0};
  std::atomic<bool> holding{true};
  Latch done(calls);
  for (long i = 0; i < calls; ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::seconds(static_cast<long>(hold_seconds) + 60));
    stubs[static_cast<size_t>(i) % stubs.size()]->async()->Execute(
        &call->context, &request, &call->response, [&](grpc::Status status) {
          if (holding.load()) {
            if (failed_early++ == 0) {
              std::fprintf(stderr, "loadgen: call ended while held: %d %s\n",
                           status.error_code(), status.error_message().c_str());
            }
          } else if (status.error_code() == grpc::StatusCode::CANCELLED) {
            ++cancelled;
          }
          done.Done();
        });
    all.push_back(std::move(call));
  }
  std::printf("holding calls=%ld\n", calls);
  std::fflush(stdout);
  std::this_thread::sleep_for(
      std::chrono::microseconds(static_cast<long>(hold_seconds * 1e6)));
  holding = false;
  for (auto& call : all) call->context.TryCancel();
  done.Wait();
  std::printf("mode=hold calls=%ld ended_early=%ld cancelled=%ld\n", calls,
              failed_early.load(), cancelled.load());
  return failed_early == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string target = Flag(argc, argv, "--target", "127.0.0.1:50051");
  const std::string mode = Flag(argc, argv, "--mode", "unary");
  const int channels = std::atoi(Flag(argc, argv, "--channels", "1").c_str());
  v1::Request request;
  request.set_path(Flag(argc, argv, "--path", "/projects/42"));
  auto stubs = Stubs(target, std::max(1, channels));
  Stats stats;
  if (mode == "unary") {
    return RunUnary(stubs, request,
                    std::atoi(Flag(argc, argv, "--concurrency", "64").c_str()),
                    std::atof(Flag(argc, argv, "--seconds", "5").c_str()),
                    std::atol(Flag(argc, argv, "--requests", "0").c_str()),
                    stats);
  }
  if (mode == "batch") {
    return RunBatch(
        stubs, request, std::atoi(Flag(argc, argv, "--streams", "1").c_str()),
        std::atol(Flag(argc, argv, "--items", "2000").c_str()), stats);
  }
  if (mode == "hold") {
    return RunHold(stubs, request,
                   std::atol(Flag(argc, argv, "--calls", "10000").c_str()),
                   std::atof(Flag(argc, argv, "--hold_seconds", "5").c_str()));
  }
  std::fprintf(stderr, "loadgen: --mode must be unary, batch or hold\n");
  return 2;
}
