#include "service/auth/callers_table.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cstring>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace gitlab_gateway::auth {
namespace {

constexpr size_t kMaxNameBytes = 128;

bool NameChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
         c == '_' || c == ':' || c == '/' || c == '@' || c == '-';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseDigest(absl::string_view hex, std::array<uint8_t, 32>* out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    const int high = HexValue(hex[2 * i]);
    const int low = HexValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    (*out)[i] = static_cast<uint8_t>(high << 4 | low);
  }
  return true;
}

uint64_t Prefix(const uint8_t* digest) {
  uint64_t prefix = 0;
  std::memcpy(&prefix, digest, sizeof(prefix));
  return prefix;
}

absl::Status LineError(size_t line, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", problem));
}

}  // namespace

absl::StatusOr<CallersTable> CallersTable::Parse(absl::string_view text) {
  if (text.size() > kMaxBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the file has ", text.size(), " bytes, more than ", kMaxBytes));
  }
  CallersTable table;
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_set<std::string> digests;
  size_t number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 2) {
      return LineError(number,
                       "must be a caller name and the SHA-256 of its secret "
                       "(64 hex digits), separated by a space");
    }
    absl::string_view name = fields[0];
    if (name.size() > kMaxNameBytes) {
      return LineError(number, absl::StrCat("the name has more than ",
                                            kMaxNameBytes, " characters"));
    }
    for (char c : name) {
      if (!NameChar(c)) {
        return LineError(number,
                         "the name may hold only letters, digits and . _ : "
                         "/ @ -");
      }
    }
    if (name == "anonymous") {
      return LineError(number,
                       "\"anonymous\" is reserved for callers that proved "
                       "nothing");
    }
    Entry entry{std::string(name), {}};
    if (!ParseDigest(fields[1], &entry.digest)) {
      return LineError(number,
                       "the digest must be 64 hex digits (SHA-256 of the "
                       "secret)");
    }
    if (!names.insert(entry.name).second) {
      return LineError(number,
                       absl::StrCat("caller \"", name, "\" is listed twice"));
    }
    std::string digest(entry.digest.begin(), entry.digest.end());
    if (!digests.insert(std::move(digest)).second) {
      return LineError(number,
                       absl::StrCat("caller \"", name,
                                    "\" has the same digest as an earlier "
                                    "caller"));
    }
    if (table.entries_.size() == kMaxCallers) {
      return LineError(number,
                       absl::StrCat("more than ", kMaxCallers, " callers"));
    }
    table.by_prefix_[Prefix(entry.digest.data())].push_back(
        static_cast<uint32_t>(table.entries_.size()));
    table.names_.insert(entry.name);
    table.entries_.push_back(std::move(entry));
  }
  return table;
}

std::optional<std::string> CallersTable::Find(absl::string_view secret) const {
  if (secret.empty() || secret.size() > kMaxSecretBytes) return std::nullopt;
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
         digest);
  const Entry* found = nullptr;
  auto candidates = by_prefix_.find(Prefix(digest));
  if (candidates != by_prefix_.end()) {
    for (uint32_t index : candidates->second) {
      const Entry& entry = entries_[index];
      if (CRYPTO_memcmp(entry.digest.data(), digest, sizeof(digest)) == 0) {
        found = &entry;
      }
    }
  }
  OPENSSL_cleanse(digest, sizeof(digest));
  if (found == nullptr) return std::nullopt;
  return found->name;
}

std::vector<std::string> CallersTable::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const Entry& entry : entries_) out.push_back(entry.name);
  return out;
}

}  // namespace gitlab_gateway::auth
