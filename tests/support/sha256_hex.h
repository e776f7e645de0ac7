#ifndef GITLAB_GATEWAY_TESTS_SUPPORT_SHA256_HEX_H_
#define GITLAB_GATEWAY_TESTS_SUPPORT_SHA256_HEX_H_

// SHA-256 of `bytes` as 64 lowercase hex digits: what
// `printf %s "$secret" | sha256sum` prints, the form the callers file holds
// (CallerBearerTest.DigestsAreWhatSha256sumPrints checks the two agree).
// Links OpenSSL (gg_test_support does). Any thread.

#include <openssl/evp.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace gitlab_gateway::testing {

inline std::string Sha256Hex(absl::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), size));
}

}  // namespace gitlab_gateway::testing

#endif  // GITLAB_GATEWAY_TESTS_SUPPORT_SHA256_HEX_H_
