// FormatAccessRecord: one JSON object per line, every field present,
// strings escaped, repaired and capped; ErrorReason reads ErrorInfo.
#include "service/log/access_record.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace gitlab_gateway::log {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;

AccessRecord Sample() {
  AccessRecord r;
  r.time = absl::FromUnixMillis(1796007845678);  // 2026-11-30T03:04:05.678Z
  r.caller = "anonymous";
  r.rpc = "Execute";
  r.id = "a1";
  r.method = "GET";
  r.route = "/projects/:id/issues/:iid";
  r.credential_class = "default";
  r.http_status = 404;
  r.grpc_code = 5;
  r.attempts = 2;
  r.upstream_latency = absl::Microseconds(12345);
  r.total_latency = absl::Microseconds(13000);
  r.gitlab_request_id = "01HGITLAB";
  r.request_id = "5f0c0b5e-0000-4000-8000-000000000001";
  return r;
}

std::string Details(const std::string& reason) {
  google::rpc::ErrorInfo info;
  info.set_reason(reason);
  google::rpc::Status status;
  status.set_code(5);
  status.add_details()->PackFrom(info);
  return status.SerializeAsString();
}

TEST(AccessRecordTest, FormatsEveryFieldOnOneLine) {
  AccessRecord r = Sample();
  r.error_details = Details("GITLAB_NOT_FOUND");
  EXPECT_EQ(FormatAccessRecord(r),
            R"({"time":"2026-11-30T03:04:05.678Z","caller":"anonymous",)"
            R"("rpc":"Execute","id":"a1","method":"GET",)"
            R"("route":"/projects/:id/issues/:iid","credential":"default",)"
            R"("credential_name":"","gitlab_status":404,)"
            R"("grpc_code":"NOT_FOUND","reason":"GITLAB_NOT_FOUND",)"
            R"("attempts":2,"upstream_ms":12.345,"total_ms":13.000,)"
            R"("gitlab_request_id":"01HGITLAB",)"
            R"("request_id":"5f0c0b5e-0000-4000-8000-000000000001"})"
            "\n");
}

TEST(AccessRecordTest, EscapesQuotesBackslashesAndControlCharacters) {
  AccessRecord r = Sample();
  r.id =
      "a\"b\\c\nd\x01"
      "e";
  std::string line = FormatAccessRecord(r);
  EXPECT_THAT(line, HasSubstr(R"("id":"a\"b\\c\nd\u0001e")"));
  // Exactly one line, whatever the fields hold.
  EXPECT_EQ(line.find('\n'), line.size() - 1);
}

TEST(AccessRecordTest, RepairsInvalidUtf8AndCapsLongFields) {
  AccessRecord r = Sample();
  r.id = "ok\xff";
  r.route = std::string(5000, 'r');
  std::string line = FormatAccessRecord(r);
  EXPECT_THAT(line, Not(HasSubstr("\xff")));
  EXPECT_THAT(line, HasSubstr("\"id\":\"ok\xef\xbf\xbd\""));  // U+FFFD
  EXPECT_THAT(line, HasSubstr(std::string(kMaxFieldBytes - 3, 'r') + "...\""));
  EXPECT_THAT(line, Not(HasSubstr(std::string(kMaxFieldBytes, 'r'))));
  EXPECT_LT(line.size(), 2 * kMaxFieldBytes + 600);
}

TEST(AccessRecordTest, ErrorReasonReadsErrorInfoOrNothing) {
  EXPECT_EQ(ErrorReason(Details("INVALID_PATH")), "INVALID_PATH");
  EXPECT_EQ(ErrorReason(""), "");
  EXPECT_EQ(ErrorReason("\xff\xff not a proto"), "");
  google::rpc::Status no_info;
  no_info.set_code(3);
  EXPECT_EQ(ErrorReason(no_info.SerializeAsString()), "");
}

TEST(AccessRecordTest, OkCallHasEmptyReason) {
  AccessRecord r = Sample();
  r.http_status = 200;
  r.grpc_code = 0;
  std::string line = FormatAccessRecord(r);
  EXPECT_THAT(line, HasSubstr(R"("grpc_code":"OK","reason":"")"));
  EXPECT_THAT(line, EndsWith("}\n"));
}

// The line writes the time and the latencies its own cheaper way; they read
// exactly as absl::FormatTime("%E3S") and StrFormat("%.3f") would write them,
// within a second (the cached part) and across seconds, days and years.
TEST(AccessRecordTest, TimeAndLatenciesReadAsAbslWritesThem) {
  AccessRecord r = Sample();
  for (int64_t ms :
       {int64_t{0}, int64_t{1}, int64_t{999}, int64_t{1000},
        int64_t{1796007845678}, int64_t{1796007845679}, int64_t{1796007845999},
        int64_t{1796007846000}, int64_t{1798761599999}, int64_t{1798761600000},
        int64_t{4102444799999}}) {
    r.time = absl::FromUnixMillis(ms) + absl::Microseconds(731);
    const std::string want = absl::StrCat(
        R"({"time":")",
        absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", r.time, absl::UTCTimeZone()),
        R"(",)");
    EXPECT_THAT(FormatAccessRecord(r), ::testing::StartsWith(want)) << ms;
  }
  for (int64_t us : {int64_t{0}, int64_t{1}, int64_t{9}, int64_t{10},
                     int64_t{99}, int64_t{100}, int64_t{999}, int64_t{1000},
                     int64_t{1001}, int64_t{12345}, int64_t{999999},
                     int64_t{1000000}, int64_t{86400000000}}) {
    r.upstream_latency = absl::Microseconds(us);
    r.total_latency = absl::Microseconds(us) + absl::Nanoseconds(400);
    const std::string text = absl::StrFormat("%.3f", us / 1000.0);
    EXPECT_THAT(FormatAccessRecord(r),
                HasSubstr(absl::StrCat(R"("upstream_ms":)", text,
                                       R"(,"total_ms":)", text, ",")))
        << us;
  }
  // Rounded to the microsecond.
  r.upstream_latency = absl::Nanoseconds(1999600);
  EXPECT_THAT(FormatAccessRecord(r), HasSubstr(R"("upstream_ms":2.000,)"));
}

}  // namespace
}  // namespace gitlab_gateway::log
