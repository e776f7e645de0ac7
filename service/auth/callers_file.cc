#include "service/auth/callers_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/server/log.h"

namespace gitlab_gateway::auth {

absl::StatusOr<std::string> ReadSmallFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::string content;
  char buffer[8192];
  size_t n = 0;
  while (content.size() <= CallersTable::kMaxBytes &&
         (n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) {
    content.append(buffer, n);
  }
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": cannot read"));
  }
  return content;
}

absl::StatusOr<std::unique_ptr<CallersFile>> CallersFile::Open(
    std::string path, absl::Duration interval) {
  absl::StatusOr<std::string> content = ReadSmallFile(path);
  if (!content.ok()) return content.status();
  absl::StatusOr<CallersTable> table = CallersTable::Parse(*content);
  if (!table.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", table.status().message()));
  }
  std::unique_ptr<CallersFile> file(new CallersFile(std::move(path), interval));
  {
    absl::MutexLock lock(&file->mu_);
    file->table_ = std::make_shared<const CallersTable>(*std::move(table));
    file->last_content_ = *std::move(content);
    file->loads_ = 1;
  }
  if (interval < absl::InfiniteDuration()) {
    file->thread_ = std::thread([raw = file.get()] { raw->Run(); });
  }
  return file;
}

CallersFile::~CallersFile() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const CallersTable> CallersFile::table() const {
  absl::MutexLock lock(&mu_);
  return table_;
}

bool CallersFile::HasName(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  return table_->HasName(name);
}

void CallersFile::Poll() {
  absl::StatusOr<std::string> content = ReadSmallFile(path_);
  {
    absl::MutexLock lock(&mu_);
    if (!content.ok()) {
      // A Secret update swaps a symlink: a read may miss the file for a
      // moment. Logged once until a read succeeds again.
      if (!last_read_failed_) {
        LogLine("WARN", "callers file %s; keeping the %d callers loaded",
                content.status().message(), table_->size());
      }
      last_read_failed_ = true;
      ++failures_;
      return;
    }
    last_read_failed_ = false;
    if (*content == last_content_) return;
  }
  // Parsed outside mu_: RPCs looking up the table never wait for it.
  absl::StatusOr<CallersTable> table = CallersTable::Parse(*content);
  absl::MutexLock lock(&mu_);
  last_content_ = *std::move(content);
  if (!table.ok()) {
    ++failures_;
    LogLine("WARN", "callers file %s: %s; keeping the %d callers loaded", path_,
            table.status().message(), table_->size());
    return;
  }
  table_ = std::make_shared<const CallersTable>(*std::move(table));
  ++loads_;
  LogLine("INFO", "callers file %s: reloaded, %d callers", path_,
          table_->size());
}

void CallersFile::Run() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      const absl::Time until = absl::Now() + interval_;
      while (!stopping_ && absl::Now() < until) {
        mu_.AwaitWithDeadline(absl::Condition(&stopping_), until);
      }
      if (stopping_) return;
    }
    Poll();
  }
}

int64_t CallersFile::loads() const {
  absl::MutexLock lock(&mu_);
  return loads_;
}

int64_t CallersFile::failures() const {
  absl::MutexLock lock(&mu_);
  return failures_;
}

bool CallersFile::AwaitLoads(int64_t loads, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, loads]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return loads_ >= loads;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

bool CallersFile::AwaitFailures(int64_t failures,
                                absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, failures]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return failures_ >= failures;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

}  // namespace gitlab_gateway::auth
