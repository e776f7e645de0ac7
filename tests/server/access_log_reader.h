#ifndef GITLAB_GATEWAY_TESTS_SERVER_ACCESS_LOG_READER_H_
#define GITLAB_GATEWAY_TESTS_SERVER_ACCESS_LOG_READER_H_

// Reads the access log a test gateway wrote to a file: each line parsed as
// JSON (protobuf's parser, so a malformed line fails the test). Test thread
// only.
//
//   AccessLogFile file("execute");
//   GatewayHarness h([&](auto& c) { c.access_log = file.path(); });
//   ... calls ...
//   std::vector<AccessLine> lines = file.Lines(*h.server);

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "service/server/gateway_server.h"

namespace gitlab_gateway::testing {

// One access-log line: fields by name.
struct AccessLine {
  google::protobuf::Struct fields;
  std::string raw;

  std::string Str(const std::string& name) const {
    auto it = fields.fields().find(name);
    return it == fields.fields().end() ? "<missing>"
                                       : it->second.string_value();
  }
  double Num(const std::string& name) const {
    auto it = fields.fields().find(name);
    return it == fields.fields().end() ? -1 : it->second.number_value();
  }
};

class AccessLogFile {
 public:
  explicit AccessLogFile(absl::string_view name)
      : path_(absl::StrCat(::testing::TempDir(), "/", name, "_", getpid(),
                           ".access.log")) {
    std::remove(path_.c_str());
  }
  ~AccessLogFile() { std::remove(path_.c_str()); }

  const std::string& path() const { return path_; }

  // Everything written so far (after the gateway's log was flushed).
  std::string Text(server::GatewayServer& server) const {
    if (server.access_log() != nullptr) server.access_log()->Flush();
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::vector<AccessLine> Lines(server::GatewayServer& server) const {
    std::vector<AccessLine> lines;
    for (absl::string_view raw :
         absl::StrSplit(Text(server), '\n', absl::SkipEmpty())) {
      AccessLine line;
      line.raw = std::string(raw);
      auto parsed =
          google::protobuf::util::JsonStringToMessage(line.raw, &line.fields);
      EXPECT_TRUE(parsed.ok()) << "not JSON: " << raw;
      lines.push_back(std::move(line));
    }
    return lines;
  }

 private:
  std::string path_;
};

// The gateway's metrics in Prometheus text format, without an HTTP scrape.
inline std::string MetricsText(server::GatewayServer& server) {
  return prometheus::TextSerializer().Serialize(
      server.metrics().registry()->Collect());
}

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SERVER_ACCESS_LOG_READER_H_
