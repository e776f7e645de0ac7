#include "bench/soak/gateway_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace gitlab_gateway::bench {
namespace {

constexpr size_t kLogKeep = 64 * 1024;
constexpr char kServing[] = "serving gRPC on port ";

}  // namespace

ProcessSample SampleProcess(pid_t pid) {
  ProcessSample s;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view v(line);
    if (absl::ConsumePrefix(&v, "VmRSS:")) {
      double kb = 0;
      (void)absl::SimpleAtod(
          absl::StripSuffix(absl::StripAsciiWhitespace(v), " kB"), &kb);
      s.rss_mb = kb / 1024.0;
    } else if (absl::ConsumePrefix(&v, "Threads:")) {
      (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(v), &s.threads);
    }
  }
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string all((std::istreambuf_iterator<char>(stat)),
                  std::istreambuf_iterator<char>());
  // Fields after the ")" closing the command name: state is field 3, utime
  // and stime are fields 14 and 15.
  size_t close = all.rfind(')');
  if (close != std::string::npos) {
    std::vector<std::string> fields =
        absl::StrSplit(all.substr(close + 2), ' ', absl::SkipEmpty());
    double utime = 0, stime = 0;
    if (fields.size() > 12 && absl::SimpleAtod(fields[11], &utime) &&
        absl::SimpleAtod(fields[12], &stime)) {
      s.cpu_s = (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  if (DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str())) {
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] != '.') ++s.fds;
    }
    closedir(dir);
  }
  return s;
}

absl::StatusOr<std::unique_ptr<GatewayProcess>> GatewayProcess::Start(
    const std::string& binary, const std::vector<std::string>& flags) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<std::string> args = {binary};
  args.insert(args.end(), flags.begin(), flags.end());
  pid_t pid = fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    dup2(pipe_fds[1], STDERR_FILENO);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    setenv("GITLAB_TOKEN", "soak-default-token", 1);
    // The load generator calls without caller identity.
    setenv("GITLAB_GATEWAY_ALLOW_ANONYMOUS_DEFAULT_TOKEN", "true", 1);
    execv(binary.c_str(), argv.data());
    std::fprintf(stderr, "exec %s: %s\n", binary.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(pipe_fds[1]);
  std::unique_ptr<GatewayProcess> p(new GatewayProcess());
  p->pid_ = pid;
  p->drain_ = std::thread([gw = p.get(), fd = pipe_fds[0]] { gw->Drain(fd); });
  absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (absl::Now() < give_up) {
    {
      absl::MutexLock lock(&p->mu_);
      // "serving gRPC on port 33325, metrics on port 0, GitLab ..."
      size_t at = p->log_.find(kServing);
      size_t comma = at == std::string::npos ? at : p->log_.find(',', at);
      if (comma != std::string::npos) {
        size_t start = at + sizeof(kServing) - 1;
        if (absl::SimpleAtoi(p->log_.substr(start, comma - start), &p->port_)) {
          return p;
        }
      }
    }
    if (waitpid(pid, &p->exit_status_, WNOHANG) == pid) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::UnavailableError(
      absl::StrCat("gateway did not start: ", p->LogTail()));
}

GatewayProcess::~GatewayProcess() {
  Stop();
  if (drain_.joinable()) drain_.join();
}

int GatewayProcess::Stop() {
  if (pid_ < 0) return exit_status_;
  if (exit_status_ == -1) {
    kill(pid_, SIGTERM);
    absl::Time give_up = absl::Now() + absl::Seconds(30);
    while (waitpid(pid_, &exit_status_, WNOHANG) != pid_) {
      if (absl::Now() > give_up) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &exit_status_, 0);
        break;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  pid_ = -1;
  return exit_status_;
}

std::string GatewayProcess::LogTail() const {
  absl::MutexLock lock(&mu_);
  return log_.size() > 2000 ? log_.substr(log_.size() - 2000) : log_;
}

void GatewayProcess::Drain(int fd) {
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    absl::MutexLock lock(&mu_);
    log_.append(chunk, static_cast<size_t>(n));
    if (log_.size() > 2 * kLogKeep) log_.erase(0, log_.size() - kLogKeep);
  }
  close(fd);
}

}  // namespace gitlab_gateway::bench
