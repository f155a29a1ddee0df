#include "esgate/auth/credentials.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <optional>

#include "esgate/auth/base64.hpp"
#include "esgate/auth/key_material.hpp"
#include "esgate/util/utf8.hpp"

namespace esgate::auth {
namespace {

bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

bool is_url_safe_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

bool is_url_safe_token(std::string_view s, std::size_t length) noexcept {
  return s.size() == length && std::all_of(s.begin(), s.end(), is_url_safe_char);
}

bool has_control_char(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

invalid_credentials invalid(credential_scheme scheme, invalid_reason code) {
  return {scheme, code};
}

// Wipes the decoded "user:password" buffer on scope exit: the caller gets its own copies and this
// one would otherwise linger in freed heap memory (best effort; std::string gives no guarantees).
struct cleanse_on_exit {
  std::string& value;
  ~cleanse_on_exit() { OPENSSL_cleanse(value.data(), value.size()); }
};

credential_scheme scheme_of(std::string_view token) noexcept {
  if (iequals_ascii(token, "ApiKey")) return credential_scheme::api_key;
  if (iequals_ascii(token, "Basic")) return credential_scheme::basic;
  return credential_scheme::other;
}

credentials parse_api_key(std::string_view decoded) {
  auto colon = decoded.find(':');
  if (colon == std::string_view::npos)
    return invalid(credential_scheme::api_key, invalid_reason::missing_colon);
  auto id = decoded.substr(0, colon);
  auto secret = decoded.substr(colon + 1);
  if (!is_valid_api_key_id(id)) return invalid(credential_scheme::api_key, invalid_reason::bad_id);
  if (!is_valid_api_key_secret(secret))
    return invalid(credential_scheme::api_key, invalid_reason::bad_secret);
  return api_key_credentials{std::string(id), std::string(secret)};
}

credentials parse_basic(std::string_view decoded) {
  auto colon = decoded.find(':');
  if (colon == std::string_view::npos)
    return invalid(credential_scheme::basic, invalid_reason::missing_colon);
  auto username = decoded.substr(0, colon);
  auto password = decoded.substr(colon + 1);
  if (username.empty()) return invalid(credential_scheme::basic, invalid_reason::empty_username);
  if (has_control_char(username) || !util::is_valid_utf8(username))
    return invalid(credential_scheme::basic, invalid_reason::bad_username);
  if (password.find('\0') != std::string_view::npos)
    return invalid(credential_scheme::basic, invalid_reason::bad_password);
  return basic_credentials{std::string(username), std::string(password)};
}

}  // namespace

std::string_view invalid_credentials::reason() const noexcept {
  switch (code) {
    case invalid_reason::too_long:
      return "authorization header is too long";
    case invalid_reason::unsupported_scheme:
      return "unsupported authentication scheme";
    default:
      break;
  }
  // Elasticsearch's own wording (ApiKeyService.parseApiKey, UsernamePasswordToken.extractToken).
  if (scheme == credential_scheme::api_key) return "invalid ApiKey value";
  if (code == invalid_reason::bad_base64) return "invalid basic authentication header encoding";
  return "invalid basic authentication header value";
}

std::string_view to_string(invalid_reason code) noexcept {
  switch (code) {
    case invalid_reason::too_long:
      return "too_long";
    case invalid_reason::unsupported_scheme:
      return "unsupported_scheme";
    case invalid_reason::malformed_scheme:
      return "malformed_scheme";
    case invalid_reason::bad_base64:
      return "bad_base64";
    case invalid_reason::missing_colon:
      return "missing_colon";
    case invalid_reason::bad_id:
      return "bad_id";
    case invalid_reason::bad_secret:
      return "bad_secret";
    case invalid_reason::empty_username:
      return "empty_username";
    case invalid_reason::bad_username:
      return "bad_username";
    case invalid_reason::bad_password:
      return "bad_password";
  }
  return "unknown";
}

bool is_valid_api_key_id(std::string_view id) noexcept {
  return is_url_safe_token(id, api_key_id_length);
}

bool is_valid_api_key_secret(std::string_view secret) noexcept {
  return is_url_safe_token(secret, api_key_secret_length);
}

credentials parse_authorization(std::string_view header_value) {
  if (header_value.empty()) return no_credentials{};

  auto scheme_end = header_value.find_first_of(" \t");
  auto scheme = scheme_of(header_value.substr(0, std::min(scheme_end, header_value.size())));
  if (header_value.size() > max_authorization_length)
    return invalid(scheme, invalid_reason::too_long);
  if (scheme == credential_scheme::other)
    return invalid(scheme, invalid_reason::unsupported_scheme);
  // Exactly "<scheme> " then at least one character; a tab, a missing value or a missing
  // separator is malformed. A second space lands in the payload and fails base64 below.
  if (scheme_end == std::string_view::npos || header_value[scheme_end] != ' ' ||
      scheme_end + 1 == header_value.size())
    return invalid(scheme, invalid_reason::malformed_scheme);

  std::optional<std::string> decoded = base64_decode(header_value.substr(scheme_end + 1));
  if (!decoded) return invalid(scheme, invalid_reason::bad_base64);
  cleanse_on_exit guard{*decoded};
  return scheme == credential_scheme::api_key ? parse_api_key(*decoded) : parse_basic(*decoded);
}

std::string encode_api_key(std::string_view id, std::string_view secret) {
  std::string plain;
  plain.reserve(id.size() + 1 + secret.size());
  plain.append(id).append(1, ':').append(secret);
  std::string encoded = base64_encode(plain);
  OPENSSL_cleanse(plain.data(), plain.size());
  return encoded;
}

}  // namespace esgate::auth
