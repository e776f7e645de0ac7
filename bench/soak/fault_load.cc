#include "bench/soak/fault_load.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace gitlab_gateway::bench {
namespace {

constexpr absl::Duration kRpcDeadline = absl::Seconds(30);

std::unique_ptr<v1::Gateway::Stub> Stub(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a TCP of its own
  return v1::Gateway::NewStub(
      grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                grpc::InsecureChannelCredentials(), args));
}

const testing::FaultCase& HealthyCase() {
  static const testing::FaultCase* c = [] {
    auto* h = new testing::FaultCase;
    h->name = "healthy (control)";
    h->fault = testing::Fault::kHealthy;
    return h;
  }();
  return *c;
}

// Bookkeeping for stream-level mistakes (an item missing or answered twice).
const testing::FaultCase& ExactlyOnce() {
  static const testing::FaultCase* c = [] {
    auto* e = new testing::FaultCase;
    e->name = "(batch: each item answered exactly once)";
    return e;
  }();
  return *c;
}

}  // namespace

void LatencyLog::Add(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  ms_.push_back(absl::ToDoubleMilliseconds(d));
}

LatencyLog::Summary LatencyLog::Take() {
  std::vector<double> ms;
  {
    absl::MutexLock lock(&mu_);
    ms.swap(ms_);
  }
  Summary s;
  s.count = static_cast<int64_t>(ms.size());
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
  };
  s.p50_ms = at(0.50);
  s.p99_ms = at(0.99);
  s.max_ms = ms.back();
  return s;
}

HealthyCaller::HealthyCaller(int port, absl::Duration pace)
    : stub_(Stub(port)), pace_(pace) {}

HealthyCaller::~HealthyCaller() { Stop(); }

void HealthyCaller::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void HealthyCaller::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void HealthyCaller::Run() {
  v1::Request request;
  request.set_path(testing::FaultPath(testing::Fault::kHealthy));
  while (!stop_.load()) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kRpcDeadline));
    v1::Response response;
    absl::Time start = absl::Now();
    grpc::Status status = stub_->Execute(&context, request, &response);
    latencies_.Add(absl::Now() - start);
    ++calls_;
    if (!status.ok() || response.status_code() != 200) ++failures_;
    absl::SleepFor(pace_);
  }
}

FaultLoad::FaultLoad(int plain_port, int https_port, Options options)
    : options_(options), plain_(Stub(plain_port)), https_(Stub(https_port)) {
  if (options_.healthy_only) {
    cases_ = plain_cases_ = {&HealthyCase()};
    return;
  }
  for (const testing::FaultCase& c : testing::FaultCases()) {
    if (!absl::StrContains(c.name, options_.only)) continue;
    if (!options_.skip.empty() && absl::StrContains(c.name, options_.skip)) {
      continue;
    }
    cases_.push_back(&c);
    if (c.via == testing::Via::kPlainGateway) plain_cases_.push_back(&c);
  }
}

void FaultLoad::Run(int64_t calls, const std::atomic<bool>* stop) {
  next_ = 0;
  start_ = absl::Now();
  std::vector<std::thread> threads;
  for (int i = 0; i < options_.concurrency && !cases_.empty(); ++i) {
    threads.emplace_back([=] { ExecuteWorker(calls, stop); });
  }
  for (int i = 0; i < options_.streams && !plain_cases_.empty(); ++i) {
    threads.emplace_back([=] { BatchWorker(calls, stop); });
  }
  for (std::thread& t : threads) t.join();
}

int64_t FaultLoad::Take(int n, int64_t limit, const std::atomic<bool>* stop,
                        int* got) {
  if (stop != nullptr && stop->load()) return -1;
  int64_t first = next_.fetch_add(n);
  if (limit > 0 && first >= limit) return -1;
  *got = limit > 0 ? static_cast<int>(std::min<int64_t>(n, limit - first)) : n;
  if (options_.rate > 0) {
    absl::Time turn =
        start_ + absl::Seconds(static_cast<double>(first) / options_.rate);
    absl::Time now = absl::Now();
    if (turn > now) absl::SleepFor(turn - now);
  }
  return first;
}

v1::Request FaultLoad::RequestFor(int64_t i,
                                  const testing::FaultCase& c) const {
  return testing::RequestFor(c, absl::StrCat(i), options_.timeouts);
}

void FaultLoad::Record(const testing::FaultCase& c, std::string wrong) {
  absl::MutexLock lock(&mu_);
  Tally& t = tallies_[c.name];
  ++t.calls;
  if (!wrong.empty()) {
    if (t.wrong++ == 0) t.first_wrong = std::move(wrong);
  }
}

void FaultLoad::ExecuteWorker(int64_t limit, const std::atomic<bool>* stop) {
  for (;;) {
    int got;
    int64_t i = Take(1, limit, stop, &got);
    if (i < 0) return;
    const testing::FaultCase& c = *cases_[i % cases_.size()];
    auto& stub = c.via == testing::Via::kHttpsGateway ? https_ : plain_;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kRpcDeadline));
    v1::Response response;
    grpc::Status status = stub->Execute(&context, RequestFor(i, c), &response);
    ++answered_;
    Record(c, testing::CheckOutcome(c, status));
  }
}

void FaultLoad::BatchWorker(int64_t limit, const std::atomic<bool>* stop) {
  for (;;) {
    int n;
    int64_t first = Take(options_.batch_items, limit, stop, &n);
    if (first < 0) return;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + kRpcDeadline));
    auto stream = plain_->BatchExecute(&context);
    std::thread writer([&] {
      for (int64_t i = first; i < first + n; ++i) {
        if (!stream->Write(
                RequestFor(i, *plain_cases_[i % plain_cases_.size()]))) {
          break;
        }
      }
      stream->WritesDone();
    });
    std::vector<int> seen(n, 0);
    v1::Response response;
    while (stream->Read(&response)) {
      int64_t i = -1;
      if (!absl::SimpleAtoi(response.id(), &i) || i < first || i >= first + n) {
        Record(ExactlyOnce(), "a batch answer with an unknown id");
        continue;
      }
      ++seen[i - first];
      ++answered_;
      const testing::FaultCase& c = *plain_cases_[i % plain_cases_.size()];
      Record(c, testing::CheckOutcome(
                    c, static_cast<grpc::StatusCode>(response.error().code()),
                    response.error()));
    }
    writer.join();
    grpc::Status status = stream->Finish();
    for (int k = 0; k < n; ++k) {
      if (seen[k] != 1 || !status.ok()) {
        Record(ExactlyOnce(),
               absl::StrCat("batch item ", first + k, " answered ", seen[k],
                            " times; stream ", status.error_code(), " ",
                            status.error_message()));
      }
    }
  }
}

int64_t FaultLoad::wrong() const {
  absl::MutexLock lock(&mu_);
  int64_t n = 0;
  for (const auto& [name, t] : tallies_) n += t.wrong;
  return n;
}

std::map<std::string, FaultLoad::Tally> FaultLoad::tallies() const {
  absl::MutexLock lock(&mu_);
  return tallies_;
}

}  // namespace gitlab_gateway::bench
