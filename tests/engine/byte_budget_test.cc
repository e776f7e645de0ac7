// ByteBudget and ByteAccount on their own, and the engine charging a
// transfer's body to an account as it arrives: a body that does not fit
// fails with GATEWAY_OVERLOADED and gives its bytes back; a delivered body
// stays charged until the caller releases it.
#include "service/engine/byte_budget.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "service/engine/byte_account.h"
#include "service/engine/engine.h"
#include "service/engine/status_reason.h"
#include "tests/support/fake_gitlab.h"

namespace gitlab_gateway::engine {
namespace {

using testing::FakeGitLab;
using testing::Reply;

TEST(ByteBudgetTest, TryChargeStaysWithinCapacity) {
  ByteBudget budget("stream", 100);
  EXPECT_TRUE(budget.TryCharge(60));
  EXPECT_FALSE(budget.TryCharge(41));
  EXPECT_TRUE(budget.TryCharge(40));
  EXPECT_TRUE(budget.Full());
  EXPECT_FALSE(budget.TryCharge(1));
  EXPECT_EQ(budget.refusals(), 2u);
  budget.Release(100);
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_FALSE(budget.TryCharge(101));  // never fits
  budget.Charge(150);                   // held bytes count regardless
  EXPECT_EQ(budget.peak(), 150u);
  EXPECT_EQ(budget.Describe(), "the stream memory budget (100 bytes)");
  EXPECT_EQ(ByteBudget("gateway", 3 << 20).Describe(),
            "the gateway memory budget (3 MiB)");
}

TEST(ByteBudgetTest, ConcurrentChargesNeverPassCapacity) {
  ByteBudget budget("gateway", 1000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        if (budget.TryCharge(7)) budget.Release(7);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(budget.used(), 0u);
  EXPECT_LE(budget.peak(), 1000u);
}

TEST(ByteAccountTest, ChargesBothBudgetsOrNeither) {
  auto stream = std::make_shared<ByteBudget>("stream", 100);
  auto gateway = std::make_shared<ByteBudget>("gateway", 150);
  auto other = std::make_shared<ByteBudget>("stream", 100);
  ByteAccount a(stream, gateway), b(other, gateway);
  const ByteBudget* refused = nullptr;
  EXPECT_TRUE(a.TryCharge(90));
  EXPECT_FALSE(a.TryCharge(20, &refused));
  EXPECT_EQ(refused, stream.get());
  EXPECT_FALSE(b.TryCharge(70, &refused));  // fits its stream, not the gateway
  EXPECT_EQ(refused, gateway.get());
  EXPECT_EQ(other->used(), 0u);
  EXPECT_EQ(gateway->used(), 90u);
  a.ChargeExactly(120);  // what is finally kept, over the stream's capacity
  EXPECT_EQ(stream->used(), 120u);
  EXPECT_EQ(gateway->used(), 120u);
  a.Release(20);
  EXPECT_EQ(a.charged(), 100u);
  a.ReleaseAll();
  EXPECT_EQ(stream->used(), 0u);
  EXPECT_EQ(gateway->used(), 0u);
  {
    ByteAccount dropped(nullptr, gateway);
    EXPECT_TRUE(dropped.TryCharge(10));
  }
  EXPECT_EQ(gateway->used(), 0u) << "the destructor gives the bytes back";
}

std::unique_ptr<Engine> MakeEngine() {
  EngineOptions options;
  options.protocol = "http";
  auto engine = Engine::Create(std::move(options));
  EXPECT_TRUE(engine.ok()) << engine.status();
  return *std::move(engine);
}

absl::StatusOr<HttpResponse> Fetch(Engine& engine, const FakeGitLab& fake,
                                   std::shared_ptr<ByteAccount> account) {
  HttpRequest request;
  request.url = absl::StrCat(fake.base_url(), "/api/v4/projects");
  request.deadline = absl::Now() + absl::Seconds(10);
  request.account = std::move(account);
  absl::Notification done;
  absl::StatusOr<HttpResponse> result = absl::UnknownError("not completed");
  EXPECT_TRUE(engine
                  .Submit(std::move(request),
                          [&](absl::StatusOr<HttpResponse> r) {
                            result = std::move(r);
                            done.Notify();
                          })
                  .ok());
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  return result;
}

TEST(EngineByteBudgetTest, ABodyThatDoesNotFitFailsAndGivesItsBytesBack) {
  FakeGitLab fake;
  fake.Enqueue(Reply::Json(200, std::string(300 << 10, 'a')));
  fake.Enqueue(Reply::Json(200, std::string(100 << 10, 'b')));
  auto engine = MakeEngine();
  auto stream = std::make_shared<ByteBudget>("stream", 256 << 10);
  auto gateway = std::make_shared<ByteBudget>("gateway", 1 << 20);

  auto big = std::make_shared<ByteAccount>(stream, gateway);
  absl::StatusOr<HttpResponse> refused = Fetch(*engine, fake, big);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted)
      << refused.status();
  EXPECT_EQ(ReasonOf(refused.status()), "GATEWAY_OVERLOADED");
  EXPECT_NE(refused.status().message().find("the stream memory budget"),
            std::string::npos)
      << refused.status();
  EXPECT_EQ(big->charged(), 0u);
  EXPECT_EQ(stream->used(), 0u);
  EXPECT_EQ(gateway->used(), 0u);
  EXPECT_LE(stream->peak(), size_t{256} << 10);

  auto small = std::make_shared<ByteAccount>(stream, gateway);
  absl::StatusOr<HttpResponse> delivered = Fetch(*engine, fake, small);
  ASSERT_TRUE(delivered.ok()) << delivered.status();
  EXPECT_EQ(delivered->body.size(), size_t{100} << 10);
  // The body is the caller's now: it stays charged until released.
  EXPECT_EQ(small->charged(), size_t{100} << 10);
  EXPECT_EQ(gateway->used(), size_t{100} << 10);
  small->ReleaseAll();
  EXPECT_EQ(gateway->used(), 0u);
}

}  // namespace
}  // namespace gitlab_gateway::engine
