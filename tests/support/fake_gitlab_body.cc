// Large bodies for FakeGitLab: the answer pattern, the request hash and the
// cap on stored request bodies.

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "tests/support/fake_gitlab.h"

namespace gitlab_gateway::testing {
namespace {

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

void FillPattern(uint64_t offset, char* out, size_t size) {
  // Byte i is byte (i % 8) of SplitMix(i / 8): no period a test could hit.
  while (size > 0) {
    uint64_t word = SplitMix(offset >> 3);
    unsigned char bytes[8];
    std::memcpy(bytes, &word, 8);
    size_t skip = offset & 7;
    size_t n = std::min<size_t>(8 - skip, size);
    std::memcpy(out, bytes + skip, n);
    out += n;
    offset += n;
    size -= n;
  }
}

uint64_t Fnv1a(absl::string_view bytes, uint64_t hash) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

void FakeGitLab::SetMaxStoredBody(size_t bytes) {
  absl::MutexLock lock(&mu_);
  max_stored_body_ = bytes;
}

}  // namespace gitlab_gateway::testing
