#pragma once

// bcrypt password hashes for users.yml (`esgate hash-password`), via libxcrypt's crypt_r.
//
// bcrypt reads at most 72 bytes of a password and stops at a NUL, so two different passwords could
// share a hash. hash_password refuses such passwords instead of silently truncating them, and
// verify_password refuses a password containing NUL. bcrypt is slow by design (cost 12 is ~0.25 s):
// callers on an event loop must run verify_password on a worker pool.

#include <cstddef>
#include <string>
#include <string_view>

namespace esgate::auth {

inline constexpr int bcrypt_min_cost = 10;
inline constexpr int bcrypt_max_cost = 31;
inline constexpr int bcrypt_default_cost = 12;
inline constexpr std::size_t bcrypt_max_password_bytes = 72;

/// "$2b$<cost>$<22 salt chars><31 hash chars>" (60 characters) with a salt from RAND_bytes.
/// Throws std::invalid_argument if cost is outside [bcrypt_min_cost, bcrypt_max_cost] or the
/// password contains NUL or is longer than 72 bytes; std::runtime_error if RAND_bytes or crypt
/// fail.
std::string hash_password(std::string_view password, int cost = bcrypt_default_cost);

/// Checks `password` against a bcrypt hash ($2a$, $2b$ or $2y$). False on any failure: malformed
/// hash, NUL in the password, crypt error. The final comparison is constant-time.
bool verify_password(std::string_view password, std::string_view bcrypt_hash) noexcept;

/// True if `hash` has bcrypt's shape: "$2a$"/"$2b$"/"$2y$", two-digit cost 04..31, '$', and 53
/// characters of bcrypt's base64 alphabet [./A-Za-z0-9].
bool is_bcrypt_hash(std::string_view hash) noexcept;

/// The cost of a hash that passes is_bcrypt_hash, else -1.
int bcrypt_cost(std::string_view hash) noexcept;

}  // namespace esgate::auth
