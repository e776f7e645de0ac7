// The value types declared in fake_gitlab.h: RecordedRequest and Reply.

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "tests/support/fake_gitlab.h"
#include "tests/support/fake_gitlab_http.h"

namespace gitlab_gateway::testing {

std::optional<std::string> RecordedRequest::Header(
    absl::string_view name) const {
  return fake_http::FindHeader(headers, name);
}

Reply Reply::Json(int status, std::string body) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.headers.emplace_back("Content-Type", "application/json");
  return reply;
}

Reply Reply::Text(int status, std::string body) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  return reply;
}

Reply Reply::Do(Action action) {
  Reply reply;
  reply.action = action;
  return reply;
}

Reply Reply::Raw(std::string bytes) {
  Reply reply;
  reply.action = Action::kRaw;
  reply.body = std::move(bytes);
  return reply;
}

Reply& Reply::WithHeader(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

Reply& Reply::WithDelay(absl::Duration d) {
  delay = d;
  return *this;
}

}  // namespace gitlab_gateway::testing
