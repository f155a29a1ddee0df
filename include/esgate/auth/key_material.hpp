#pragma once

// Fresh API key ids and secrets, shaped like Elasticsearch's (es-security-reference.md §2.1-2.2).
// ES ids are time-based "flake" UUIDs; ours are fully random, which is indistinguishable to clients
// and leaks no creation time. Both throw std::runtime_error only if OpenSSL's RAND_bytes fails.

#include <cstddef>
#include <string>

namespace esgate::auth {

inline constexpr std::size_t api_key_id_length = 20;      // 15 random bytes, URL-safe base64
inline constexpr std::size_t api_key_secret_length = 22;  // 16 random bytes, URL-safe base64

/// 20 characters of [A-Za-z0-9_-] (15 bytes from RAND_bytes).
std::string generate_key_id();

/// 22 characters of [A-Za-z0-9_-], no padding (16 bytes = 128 bits from RAND_bytes, as ES >= 8.18).
std::string generate_key_secret();

}  // namespace esgate::auth
