// esgate-fuzz-deps: esgate::auth
// Fuzzes the Authorization header parser, the strict base64 decoder and verify_secret with the
// input as the stored hash (a corrupted or hostile key-store value).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "esgate/auth/base64.hpp"
#include "esgate/auth/credentials.hpp"
#include "esgate/auth/secret_hash.hpp"

using namespace esgate::auth;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void fuzz_header(std::string_view input) {
  auto parsed = parse_authorization(input);
  if (auto* key = std::get_if<api_key_credentials>(&parsed)) {
    check(is_valid_api_key_id(key->id) && is_valid_api_key_secret(key->secret));
    check(input.size() <= max_authorization_length);
    // Re-encoding yields a canonical header that parses to the same key.
    check(parse_authorization("ApiKey " + encode_api_key(key->id, key->secret)) == parsed);
  } else if (auto* user = std::get_if<basic_credentials>(&parsed)) {
    check(!user->username.empty());
    check(user->username.find(':') == std::string::npos);
    check(user->password.find('\0') == std::string::npos);
  } else if (auto* bad = std::get_if<invalid_credentials>(&parsed)) {
    // Reasons are fixed literals, never built from the input.
    auto reason = bad->reason();
    check(reason == "invalid ApiKey value" ||
          reason == "invalid basic authentication header encoding" ||
          reason == "invalid basic authentication header value" ||
          reason == "unsupported authentication scheme" ||
          reason == "authorization header is too long");
  } else {
    check(input.empty());
  }
}

void fuzz_base64(std::string_view input) {
  if (auto decoded = base64_decode(input)) {
    check(decoded->size() <= input.size());
    auto again = base64_decode(base64_encode(*decoded));
    check(again && *again == *decoded);
  }
}

void fuzz_stored_hash(std::string_view input) {
  auto info = identify_hash(input);
  // Skip expensive work factors so the fuzzer stays fast; their parsing is still exercised.
  if (info && info->algorithm == hash_algorithm::pbkdf2 && info->cost > 2000) return;
  if (info && info->algorithm == hash_algorithm::bcrypt && info->cost > 6) return;
  bool ok = verify_secret("ui2lp2axTNmsyakw9tvNnw", input);
  if (!info) check(!ok);
  check(is_slow_hash(input) == (info && info->algorithm != hash_algorithm::ssha256));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzz_header(input);
  fuzz_base64(input);
  fuzz_stored_hash(input);
  return 0;
}
