#include "service/auth/policy_store.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "service/server/log.h"

namespace gitlab_gateway::auth {
namespace {

// The whole file, refusing anything beyond kMaxPolicyBytes.
absl::StatusOr<std::string> ReadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot open the file");
  std::string text(kMaxPolicyBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return absl::DataLossError("cannot read the file");
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxPolicyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("larger than ", kMaxPolicyBytes, " bytes"));
  }
  return text;
}

std::string Named(const std::string& path, absl::string_view why) {
  return absl::StrCat("--policy_file \"", path, "\": ", why);
}

// The file's text and its policy, or the error naming the file.
absl::Status Load(const std::string& path,
                  const absl::flat_hash_set<std::string>& credential_names,
                  std::string* text, std::shared_ptr<const Policy>* policy) {
  absl::StatusOr<std::string> read = ReadPolicyFile(path);
  if (!read.ok()) {
    return absl::InvalidArgumentError(Named(path, read.status().message()));
  }
  absl::StatusOr<std::shared_ptr<const Policy>> parsed =
      Policy::FromJson(*read, credential_names);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(Named(path, parsed.status().message()));
  }
  *text = *std::move(read);
  *policy = *std::move(parsed);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Policy>> LoadPolicyFile(
    const std::string& path,
    const absl::flat_hash_set<std::string>& credential_names) {
  std::string text;
  std::shared_ptr<const Policy> policy;
  absl::Status loaded = Load(path, credential_names, &text, &policy);
  if (!loaded.ok()) return loaded;
  return policy;
}

absl::StatusOr<std::unique_ptr<PolicyStore>> PolicyStore::Open(
    Options options) {
  std::string text;
  std::shared_ptr<const Policy> policy;
  absl::Status loaded =
      Load(options.path, options.credential_names, &text, &policy);
  if (!loaded.ok()) return loaded;
  std::unique_ptr<PolicyStore> store(new PolicyStore(std::move(options)));
  store->policy_ = std::move(policy);
  store->generation_ = 1;
  store->last_text_ = std::move(text);
  store->poller_ = std::thread([s = store.get()] { s->Poll(); });
  return store;
}

PolicyStore::PolicyStore(std::shared_ptr<const Policy> fixed)
    : policy_(std::move(fixed)), generation_(1) {}

PolicyStore::PolicyStore(Options options) : options_(std::move(options)) {}

PolicyStore::~PolicyStore() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (poller_.joinable()) poller_.join();
}

std::shared_ptr<const Policy> PolicyStore::current() const {
  absl::MutexLock lock(&mu_);
  return policy_;
}

bool PolicyStore::HasRule(absl::string_view caller_name) const {
  absl::MutexLock lock(&mu_);
  return policy_->Find(caller_name) != nullptr;
}

uint64_t PolicyStore::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

uint64_t PolicyStore::failed_reloads() const {
  absl::MutexLock lock(&mu_);
  return failed_reloads_;
}

bool PolicyStore::WaitForGeneration(uint64_t n, absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return generation_ >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

bool PolicyStore::WaitForFailedReloads(uint64_t n,
                                       absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto reached = [this, n]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return failed_reloads_ >= n;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
}

void PolicyStore::Poll() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto stopping = [this]()
                          ABSL_SHARED_LOCKS_REQUIRED(mu_) { return stop_; };
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping),
                               options_.poll_interval)) {
        return;
      }
    }
    CheckFile();
  }
}

void PolicyStore::CheckFile() {
  absl::StatusOr<std::string> text = ReadPolicyFile(options_.path);
  std::string error;
  std::shared_ptr<const Policy> policy;
  if (!text.ok()) {
    // A ConfigMap update swaps a symlink: a read can miss the file briefly.
    error = std::string(text.status().message());
  } else if (*text == last_text_) {
    last_error_.clear();
    return;
  } else {
    absl::StatusOr<std::shared_ptr<const Policy>> parsed =
        Policy::FromJson(*text, options_.credential_names);
    if (parsed.ok()) {
      policy = *std::move(parsed);
    } else {
      error = std::string(parsed.status().message());
    }
  }
  if (policy == nullptr) {
    if (error != last_error_) {
      LogLine("ERROR", "%s; keeping the policy in force",
              Named(options_.path, error));
      last_error_ = error;
      absl::MutexLock lock(&mu_);
      ++failed_reloads_;
    }
    return;
  }
  last_text_ = *std::move(text);
  last_error_.clear();
  const size_t rules = policy->size();
  {
    absl::MutexLock lock(&mu_);
    policy_ = std::move(policy);
    ++generation_;
  }
  LogLine("INFO", "--policy_file \"%s\": reloaded, %d caller rules",
          options_.path, rules);
}

}  // namespace gitlab_gateway::auth
