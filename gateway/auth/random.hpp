#pragma once

#include <cstddef>
#include <span>

namespace esgate::auth::detail {

/// Fills `out` from OpenSSL's CSPRNG. Throws std::runtime_error if RAND_bytes fails: without
/// randomness we must not mint keys or salts, and that is not something a caller can recover from.
void random_bytes(std::span<unsigned char> out);

}  // namespace esgate::auth::detail
