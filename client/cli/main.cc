// gitlab-gateway-cli: argv and the process streams -> cli::Run. Nothing else.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "client/cli/commands.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  std::vector<std::string> args(argv + 1, argv + argc);
  gitlab_gateway::cli::Io io{std::cin, std::cout, std::cerr,
                             /*progress=*/isatty(STDERR_FILENO) == 1};
  int code = gitlab_gateway::cli::Run(
      args, [](const char* name) { return std::getenv(name); }, io);
  std::cout.flush();
  return code;
}
