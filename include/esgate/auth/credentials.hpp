#pragma once

// Parsing of the `Authorization` request header (interface.md §4, es-security-reference.md §2.3).
//
//   Authorization: ApiKey <base64(id:secret)>     -> api_key_credentials
//   Authorization: Basic  <base64(user:password)> -> basic_credentials
//
// The scheme is matched case-insensitively and must be followed by exactly one space and at least
// one character, as in Elasticsearch. The credential is decoded with the strict standard base64
// decoder (base64.hpp) and split at the FIRST colon, so passwords and secrets may contain colons.
//
// Deliberately stricter than Elasticsearch, which only checks "something before the colon":
//   - an API key id must be exactly 20 and the secret exactly 22 characters of [A-Za-z0-9_-].
//     Anything else is rejected here, before any key-store lookup, so attacker-chosen bytes never
//     reach Redis as a key name and a flood of junk ids costs no round trip;
//   - a Basic username must be non-empty, valid UTF-8 and free of control characters (it ends up
//     in logs, audit records and JSON); a password must not contain NUL (crypt(3) cannot hash it);
//   - header values longer than max_authorization_length bytes are rejected outright;
//   - every other scheme (Bearer, Digest, Negotiate, ...) is rejected, never ignored, so a request
//     that carries credentials is never treated as anonymous (ES CHAIN shouldFallbackToAnonymous).
//
// invalid_credentials::reason() is safe to send to clients and to log: it is one of a fixed set of
// literals and never contains any part of the header.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace esgate::auth {

inline constexpr std::size_t max_authorization_length = 4096;

enum class credential_scheme { none, basic, api_key, other };

/// Why a header was rejected. Stable; to_string() gives a snake_case code for metrics and audit.
enum class invalid_reason {
  too_long,            // header value longer than max_authorization_length
  unsupported_scheme,  // a scheme other than ApiKey / Basic
  malformed_scheme,    // ApiKey/Basic not followed by exactly one space and a value
  bad_base64,          // not strict standard base64
  missing_colon,       // decoded credential has no ':'
  bad_id,              // API key id not 20 chars of [A-Za-z0-9_-] (includes an empty id)
  bad_secret,          // API key secret not 22 chars of [A-Za-z0-9_-]
  empty_username,      // Basic ":password"
  bad_username,        // control character or invalid UTF-8 in the username
  bad_password,        // NUL byte in the password
};

struct no_credentials {
  friend bool operator==(const no_credentials&, const no_credentials&) = default;
};

struct basic_credentials {
  std::string username;
  std::string password;
  friend bool operator==(const basic_credentials&, const basic_credentials&) = default;
};

struct api_key_credentials {
  std::string id;
  std::string secret;
  friend bool operator==(const api_key_credentials&, const api_key_credentials&) = default;
};

struct invalid_credentials {
  credential_scheme scheme = credential_scheme::other;
  invalid_reason code = invalid_reason::unsupported_scheme;

  /// Client-safe text in Elasticsearch's wording (e.g. "invalid ApiKey value").
  std::string_view reason() const noexcept;

  friend bool operator==(const invalid_credentials&, const invalid_credentials&) = default;
};

using credentials =
    std::variant<no_credentials, basic_credentials, api_key_credentials, invalid_credentials>;

/// Parses an Authorization header value (without the field name, surrounding OWS already removed
/// by the HTTP parser). An empty value means no credentials, as in Elasticsearch; an absent header
/// is no_credentials{} too, the caller does not need to call this.
credentials parse_authorization(std::string_view header_value);

/// Stable snake_case name of a reason, e.g. "bad_base64".
std::string_view to_string(invalid_reason code) noexcept;

/// True for exactly 20 characters of [A-Za-z0-9_-].
bool is_valid_api_key_id(std::string_view id) noexcept;

/// True for exactly 22 characters of [A-Za-z0-9_-].
bool is_valid_api_key_secret(std::string_view secret) noexcept;

/// The `encoded` field of a create-API-key response: standard padded base64 of "id:secret"
/// (60 characters ending in "==" for a 20-character id and 22-character secret).
std::string encode_api_key(std::string_view id, std::string_view secret);

}  // namespace esgate::auth
