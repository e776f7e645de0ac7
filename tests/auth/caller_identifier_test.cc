// CallerIdentifier on an RPC's metadata alone (no transport security); the
// certificate paths are tested end to end in tests/server/caller_tls_test.cc.
#include "service/auth/caller_identifier.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::auth {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Metadata = std::multimap<grpc::string_ref, grpc::string_ref>;

constexpr char kHelloDigest[] =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

class CallerIdentifierTest : public ::testing::Test {
 protected:
  CallerIdentifierTest() {
    char pattern[] = "/tmp/gg-identifier-XXXXXX";
    dir_ = mkdtemp(pattern);
    std::ofstream(dir_ + "/callers") << "ci " << kHelloDigest << "\n";
    callers_ = *CallersFile::Open(dir_ + "/callers", absl::InfiniteDuration());
  }
  ~CallerIdentifierTest() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<Caller> WithAuthorization(
      const std::vector<std::string>& values,
      const CallersFile* callers = nullptr) {
    Metadata metadata;
    for (const std::string& v : values) metadata.emplace("authorization", v);
    return CallerIdentifier(callers).Identify(nullptr, metadata);
  }

  std::string dir_;
  std::unique_ptr<CallersFile> callers_;
};

TEST_F(CallerIdentifierTest, NoCredentialsIsAnonymous) {
  absl::StatusOr<Caller> caller =
      CallerIdentifier(callers_.get()).Identify(nullptr, Metadata());
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->name, "anonymous");
  EXPECT_FALSE(caller->authenticated());
}

TEST_F(CallerIdentifierTest, AKnownBearerNamesItsCaller) {
  for (const char* value : {"Bearer hello", "bearer hello", "BEARER  hello"}) {
    SCOPED_TRACE(value);
    absl::StatusOr<Caller> caller = WithAuthorization({value}, callers_.get());
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ(caller->name, "ci");
    EXPECT_EQ(caller->via, Caller::Via::kBearer);
  }
}

TEST_F(CallerIdentifierTest, PresentedButUnverifiableCredentialsAreRefused) {
  struct Row {
    std::vector<std::string> values;
    bool with_callers;
    std::string error;
  };
  const Row rows[] = {
      {{"Bearer wrong-secret-1"}, true, "matches no caller"},
      {{"Bearer "}, true, "must be \"Bearer <secret>\""},
      {{"Basic d3Jvbmctc2VjcmV0LTE="}, true, "must be \"Bearer <secret>\""},
      {{"Bearer hello", "Bearer hello"}, true, "more than one"},
      {{"Bearer hello"}, false, "no callers file"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.error);
    absl::StatusOr<Caller> caller = WithAuthorization(
        row.values, row.with_callers ? callers_.get() : nullptr);
    ASSERT_FALSE(caller.ok());
    EXPECT_EQ(caller.status().code(), absl::StatusCode::kUnauthenticated);
    const std::string message(caller.status().message());
    EXPECT_THAT(message, HasSubstr(row.error));
    EXPECT_THAT(message, Not(HasSubstr("wrong-secret-1")));
    EXPECT_THAT(message, Not(HasSubstr("d3Jvbmctc2VjcmV0LTE")));
    EXPECT_THAT(message, Not(HasSubstr("hello")));
  }
}

}  // namespace
}  // namespace gitlab_gateway::auth
