#pragma once

// Base64 as Elasticsearch's Java code uses it (RFC 4648 §4 and §5).
//
// Decoding mirrors java.util.Base64.getDecoder() ("basic" decoder), which Elasticsearch uses for
// the `ApiKey` and `Basic` headers, so a header ES accepts we accept and a header ES rejects we
// reject:
//   - only [A-Za-z0-9+/] and '=' padding; '-', '_', whitespace and line breaks are errors;
//   - padding is optional, but if present it must be complete ("QQ==" and "QQ" are fine, "QQ=" is
//   not)
//     and nothing may follow it;
//   - a dangling single character ("QUJDR") is an error;
//   - non-zero unused trailing bits are accepted ("QR==" decodes like "QQ==").

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace esgate::auth {

/// Strict standard-alphabet decode; std::nullopt on any malformed input. Bytes in, bytes out.
std::optional<std::string> base64_decode(std::string_view text);

/// Standard alphabet with '=' padding (java.util.Base64.getEncoder()).
std::string base64_encode(std::string_view bytes);

/// URL-safe alphabet ('-', '_') without padding (Base64.getUrlEncoder().withoutPadding()), as used
/// for API key ids and secrets.
std::string base64url_encode(std::string_view bytes);

/// Length of base64_encode's output for `n` input bytes.
constexpr std::size_t base64_encoded_size(std::size_t n) noexcept { return (n + 2) / 3 * 4; }

/// Length of base64url_encode's output for `n` input bytes.
constexpr std::size_t base64url_encoded_size(std::size_t n) noexcept { return (n * 4 + 2) / 3; }

}  // namespace esgate::auth
