#ifndef GITLAB_GATEWAY_SERVICE_AUTH_CALLERS_TABLE_H_
#define GITLAB_GATEWAY_SERVICE_AUTH_CALLERS_TABLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gitlab_gateway::auth {

// The callers file, parsed: caller names and the SHA-256 of their bearer
// secrets (the file never holds a secret). Format, one caller per line:
//
//   # comment lines and blank lines are ignored
//   # name       printf %s "$secret" | sha256sum  (64 hex digits)
//   release-bot  5e884898da28047151d0e56f8dc6...
//
// A name is 1-128 characters of [A-Za-z0-9._:/@-], unique, and not
// "anonymous"; a digest is 64 hex digits, unique too (two callers with one
// secret could not be told apart). At most kMaxCallers lines of callers and
// kMaxBytes bytes. Immutable after Parse; any thread.
class CallersTable {
 public:
  static constexpr size_t kMaxCallers = 10000;
  static constexpr size_t kMaxBytes = size_t{1} << 20;
  // Longest bearer secret looked up; longer ones never match.
  static constexpr size_t kMaxSecretBytes = 4096;

  // Errors name the line and the problem, never the line's text (a raw
  // secret pasted by mistake must not reach a log):
  // `line 3: the digest must be 64 hex digits (SHA-256 of the secret)`.
  static absl::StatusOr<CallersTable> Parse(absl::string_view text);

  CallersTable() = default;

  // The name of the caller whose digest is SHA-256(`secret`), or nullopt.
  // Candidates are found by the digest's first 8 bytes (a hash lookup,
  // O(1) for any number of callers) and each is compared in full with
  // CRYPTO_memcmp. The time taken depends only on whether some stored digest
  // shares the presented one's first 64 bits; learning that needs a partial
  // SHA-256 preimage to be of any use, and says nothing about the secret.
  std::optional<std::string> Find(absl::string_view secret) const;

  size_t size() const { return entries_.size(); }
  // The caller names, in file order.
  std::vector<std::string> names() const;
  // Whether `name` is one of them. O(1).
  bool HasName(absl::string_view name) const { return names_.contains(name); }

 private:
  struct Entry {
    std::string name;
    std::array<uint8_t, 32> digest;
  };
  std::vector<Entry> entries_;
  // Indexes into entries_ by the digest's first 8 bytes.
  absl::flat_hash_map<uint64_t, std::vector<uint32_t>> by_prefix_;
  absl::flat_hash_set<std::string> names_;
};

}  // namespace gitlab_gateway::auth

#endif  // GITLAB_GATEWAY_SERVICE_AUTH_CALLERS_TABLE_H_
