#pragma once

// A fast keyed digest for in-memory caches, so that a cache entry never holds a secret or a
// password in the clear (interface.md §4, threats.md A19): the key cache stores
// digest(id, secret) of a secret that was verified once against the slow stored hash, and a later
// request is accepted if its digest matches.
//
// digest(a, b) = HMAC-SHA256(key, be64(len a) || a || be64(len b) || b) with a random 32-byte key
// per process, so the digests are useless outside this process and (a, b) pairs cannot collide by
// shifting bytes between a and b.
//
// Thread safety: digest() is const and may be called from any number of threads at once on the
// same object. Cost: ~0.2 µs per call (two SHA-256 compressions over pre-keyed states plus one or
// two for the data; one small allocation inside OpenSSL 3.0's context copy).

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

// Forward declaration of OpenSSL's opaque context, to keep <openssl/evp.h> out of this header.
struct evp_md_ctx_st;

namespace esgate::auth {

using cache_digest = std::array<unsigned char, 32>;

/// Constant-time equality of two digests.
bool equal(const cache_digest& a, const cache_digest& b) noexcept;

class cache_digester {
 public:
  static constexpr std::size_t key_size = 32;

  /// Random key from RAND_bytes. Throws std::runtime_error if RAND_bytes or OpenSSL set-up fails.
  cache_digester();

  /// Fixed key, for tests and for sharing one key between per-thread instances.
  explicit cache_digester(std::span<const unsigned char, key_size> key);

  ~cache_digester();
  cache_digester(const cache_digester&) = delete;
  cache_digester& operator=(const cache_digester&) = delete;
  cache_digester(cache_digester&& other) noexcept;
  cache_digester& operator=(cache_digester&& other) noexcept;

  /// Keyed digest of the pair (a, b). Throws std::runtime_error only if OpenSSL fails (out of
  /// memory); a moved-from digester must not be used.
  cache_digest digest(std::string_view a, std::string_view b = {}) const;

 private:
  void init(std::span<const unsigned char, key_size> key);
  void reset() noexcept;

  // SHA-256 states after absorbing key^ipad and key^opad (RFC 2104). Never modified after
  // construction; digest() copies them into a per-thread scratch context.
  evp_md_ctx_st* inner_ = nullptr;
  evp_md_ctx_st* outer_ = nullptr;
};

}  // namespace esgate::auth
