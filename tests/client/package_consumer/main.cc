// Built against the installed package only: one Execute of the demo
// GitLab's /projects/42 and one decoded 404, through GITLAB_GATEWAY_TARGET.
#include <cstdlib>
#include <iostream>

#include "gitlab_gateway/client/client.h"

int main() {
  namespace client = gitlab_gateway::client;
  const char* target = std::getenv("GITLAB_GATEWAY_TARGET");
  if (target == nullptr) {
    std::cerr << "consumer: GITLAB_GATEWAY_TARGET is not set\n";
    return 2;
  }
  client::ClientOptions options;
  options.default_timeout = absl::Seconds(20);
  client::Client gateway = client::Client::Insecure(target, options);

  client::v1::Request request;
  request.set_path("/projects/42");
  absl::StatusOr<client::v1::Response> response = gateway.Execute(request);
  if (!response.ok() || response->status_code() != 200) {
    std::cerr << "consumer: Execute failed: " << response.status() << "\n";
    return 1;
  }
  request.set_path("/projects/7");
  response = gateway.Execute(request);
  client::DecodedError error = client::DecodeError(response.status());
  if (error.reason != "GITLAB_NOT_FOUND" || !error.gitlab) {
    std::cerr << "consumer: unexpected error: " << error.ToString();
    return 1;
  }
  std::cout << "consumer: Execute 200, then " << error.ToString();
  return 0;
}
