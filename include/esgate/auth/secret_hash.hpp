#pragma once

// Stored hashes of API key secrets in Elasticsearch's self-describing formats
// (es-security-reference.md §3.2, ES Hasher), so keys can be moved between ES and esgate:
//
//   {SSHA256}<base64(8-byte salt), 12 chars><base64(SHA-256(secret || salt)), 44 chars>   (65
//   chars) {PBKDF2}<iterations>$<base64(32-byte salt)>$<base64(PBKDF2-HMAC-SHA512 key, 32 bytes)>
//   $2a$ / $2b$ / $2y$ bcrypt (verify only)
//
// SSHA256 is the default, as in ES >= 8.18: secrets are 128-bit random strings, so a work factor
// adds nothing against offline guessing (ES#120997). PBKDF2 and bcrypt are slow on purpose; run
// them off the event loop (is_slow_hash).

#include <optional>
#include <string>
#include <string_view>

namespace esgate::auth {

inline constexpr int pbkdf2_default_iterations = 10000;
inline constexpr int pbkdf2_min_iterations = 1000;
inline constexpr int pbkdf2_max_iterations = 10'000'000;

enum class hash_algorithm { ssha256, pbkdf2, bcrypt };

struct hash_info {
  hash_algorithm algorithm;
  int cost;  // PBKDF2 iterations, bcrypt log2 rounds, 0 for SSHA256
};

/// "{SSHA256}" + base64(8 random salt bytes) + base64(SHA-256(secret || salt)); 65 characters.
/// Throws std::runtime_error only if RAND_bytes or OpenSSL's SHA-256 fails.
std::string hash_ssha256(std::string_view secret);

/// "{PBKDF2}<iterations>$<base64(32-byte salt)>$<base64(32-byte key)>", PBKDF2-HMAC-SHA512.
/// Throws std::invalid_argument for iterations outside [1000, 10'000'000], std::runtime_error if
/// RAND_bytes or the KDF fails.
std::string hash_pbkdf2(std::string_view secret, int iterations = pbkdf2_default_iterations);

/// Verifies `secret` against any of the formats above, detected from the prefix. False for a
/// wrong secret and for every malformed stored value (unknown prefix, bad base64, salt shorter
/// than 8 bytes, PBKDF2 iterations out of range, ...). The final comparison is constant-time.
bool verify_secret(std::string_view secret, std::string_view stored) noexcept;

/// Algorithm and cost of a stored hash, or std::nullopt if it is not well-formed enough to verify
/// (checks the prefix and the cost field; salt and key are checked by verify_secret).
std::optional<hash_info> identify_hash(std::string_view stored) noexcept;

/// True for PBKDF2 and bcrypt: milliseconds of CPU each, to be run on a worker pool.
bool is_slow_hash(std::string_view stored) noexcept;

}  // namespace esgate::auth
