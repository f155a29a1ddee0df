#include "esgate/auth/secret_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <charconv>
#include <stdexcept>

#include "esgate/auth/base64.hpp"
#include "esgate/auth/password.hpp"
#include "random.hpp"

namespace esgate::auth {
namespace {

constexpr std::string_view ssha256_prefix = "{SSHA256}";
constexpr std::string_view pbkdf2_prefix = "{PBKDF2}";
constexpr std::size_t ssha256_salt_bytes = 8;
constexpr std::size_t ssha256_salt_chars = base64_encoded_size(ssha256_salt_bytes);  // 12
constexpr std::size_t pbkdf2_salt_bytes = 32;
constexpr std::size_t pbkdf2_key_bytes = 32;
constexpr std::size_t min_salt_bytes = 8;          // ES PBKDF2_MIN_SALT_LENGTH_IN_BYTES
constexpr std::size_t max_pbkdf2_key_bytes = 64;   // one HMAC-SHA512 block; ES writes 32
constexpr std::size_t max_secret_bytes = 1 << 20;  // PKCS5_PBKDF2_HMAC takes int lengths

std::string_view as_chars(const unsigned char* p, std::size_t n) {
  return {reinterpret_cast<const char*>(p), n};
}

// Fetched once: an implicit fetch through EVP_sha256() costs a provider lookup on every call.
const EVP_MD* sha256_md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

const EVP_MD* sha512_md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  return md;
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // The lengths are public (they follow from the format); only the contents must not leak.
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::array<unsigned char, SHA256_DIGEST_LENGTH> sha256_salted(std::string_view secret,
                                                              std::string_view salt) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned int len = 0;
  bool ok = ctx != nullptr && sha256_md() != nullptr &&
            EVP_DigestInit_ex(ctx, sha256_md(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, secret.data(), secret.size()) == 1 &&
            EVP_DigestUpdate(ctx, salt.data(), salt.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, out.data(), &len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("SHA-256 failed");
  return out;
}

bool pbkdf2_sha512(std::string_view secret, std::string_view salt, int iterations,
                   unsigned char* out, std::size_t out_len) noexcept {
  if (secret.size() > max_secret_bytes || salt.size() > max_secret_bytes || sha512_md() == nullptr)
    return false;
  return PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                           reinterpret_cast<const unsigned char*>(salt.data()),
                           static_cast<int>(salt.size()), iterations, sha512_md(),
                           static_cast<int>(out_len), out) == 1;
}

// Parses "<digits>$" after the PBKDF2 prefix; returns the iteration count and where the salt
// starts, or nullopt.
struct pbkdf2_parts {
  int iterations;
  std::string_view salt;  // base64 text
  std::string_view key;   // base64 text
};

std::optional<pbkdf2_parts> split_pbkdf2(std::string_view stored) noexcept {
  if (!stored.starts_with(pbkdf2_prefix)) return std::nullopt;
  std::string_view rest = stored.substr(pbkdf2_prefix.size());
  auto sep1 = rest.find('$');
  if (sep1 == std::string_view::npos || sep1 == 0 || sep1 > 8) return std::nullopt;
  for (char c : rest.substr(0, sep1))
    if (c < '0' || c > '9') return std::nullopt;  // no sign, no spaces
  int iterations = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + sep1, iterations);
  if (ec != std::errc{} || end != rest.data() + sep1) return std::nullopt;
  if (iterations < pbkdf2_min_iterations || iterations > pbkdf2_max_iterations) return std::nullopt;
  rest = rest.substr(sep1 + 1);
  auto sep2 = rest.find('$');
  if (sep2 == std::string_view::npos) return std::nullopt;
  return pbkdf2_parts{iterations, rest.substr(0, sep2), rest.substr(sep2 + 1)};
}

bool verify_ssha256(std::string_view secret, std::string_view stored) {
  std::string_view body = stored.substr(ssha256_prefix.size());
  if (body.size() < ssha256_salt_chars) return false;
  auto salt = base64_decode(body.substr(0, ssha256_salt_chars));
  if (!salt || salt->size() < min_salt_bytes) return false;
  auto digest = sha256_salted(secret, *salt);
  std::string computed = base64_encode(as_chars(digest.data(), digest.size()));
  OPENSSL_cleanse(digest.data(), digest.size());
  return constant_time_equal(computed, body.substr(ssha256_salt_chars));
}

bool verify_pbkdf2(std::string_view secret, std::string_view stored) {
  auto parts = split_pbkdf2(stored);
  if (!parts) return false;
  auto salt = base64_decode(parts->salt);
  if (!salt || salt->size() < min_salt_bytes) return false;
  if (!base64_decode(parts->key)) return false;
  // ES derives the key length from the stored text: whole 16-byte multiples of its decoded size.
  std::size_t key_len = parts->key.size() * 3 / 64 * 16;
  if (key_len == 0 || key_len > max_pbkdf2_key_bytes) return false;
  std::array<unsigned char, max_pbkdf2_key_bytes> key{};
  if (!pbkdf2_sha512(secret, *salt, parts->iterations, key.data(), key_len)) return false;
  std::string computed = base64_encode(as_chars(key.data(), key_len));
  OPENSSL_cleanse(key.data(), key.size());
  return constant_time_equal(computed, parts->key);
}

}  // namespace

std::string hash_ssha256(std::string_view secret) {
  std::array<unsigned char, ssha256_salt_bytes> salt;
  detail::random_bytes(salt);
  auto digest = sha256_salted(secret, as_chars(salt.data(), salt.size()));
  std::string out(ssha256_prefix);
  out += base64_encode(as_chars(salt.data(), salt.size()));
  out += base64_encode(as_chars(digest.data(), digest.size()));
  OPENSSL_cleanse(digest.data(), digest.size());
  return out;
}

std::string hash_pbkdf2(std::string_view secret, int iterations) {
  if (iterations < pbkdf2_min_iterations || iterations > pbkdf2_max_iterations)
    throw std::invalid_argument("PBKDF2 iterations must be between 1000 and 10000000");
  std::array<unsigned char, pbkdf2_salt_bytes> salt;
  detail::random_bytes(salt);
  std::array<unsigned char, pbkdf2_key_bytes> key{};
  if (!pbkdf2_sha512(secret, as_chars(salt.data(), salt.size()), iterations, key.data(),
                     key.size()))
    throw std::runtime_error("PBKDF2 failed");
  std::string out(pbkdf2_prefix);
  out += std::to_string(iterations);
  out += '$';
  out += base64_encode(as_chars(salt.data(), salt.size()));
  out += '$';
  out += base64_encode(as_chars(key.data(), key.size()));
  OPENSSL_cleanse(key.data(), key.size());
  return out;
}

bool verify_secret(std::string_view secret, std::string_view stored) noexcept {
  try {
    auto info = identify_hash(stored);
    if (!info) return false;
    switch (info->algorithm) {
      case hash_algorithm::ssha256:
        return verify_ssha256(secret, stored);
      case hash_algorithm::pbkdf2:
        return verify_pbkdf2(secret, stored);
      case hash_algorithm::bcrypt:
        return verify_password(secret, stored);
    }
  } catch (...) {  // allocation or digest failure: never authenticate on error
  }
  return false;
}

std::optional<hash_info> identify_hash(std::string_view stored) noexcept {
  if (stored.starts_with(ssha256_prefix)) return hash_info{hash_algorithm::ssha256, 0};
  if (stored.starts_with(pbkdf2_prefix)) {
    auto parts = split_pbkdf2(stored);
    if (!parts) return std::nullopt;
    return hash_info{hash_algorithm::pbkdf2, parts->iterations};
  }
  if (int cost = bcrypt_cost(stored); cost >= 0) return hash_info{hash_algorithm::bcrypt, cost};
  return std::nullopt;
}

bool is_slow_hash(std::string_view stored) noexcept {
  auto info = identify_hash(stored);
  return info && info->algorithm != hash_algorithm::ssha256;
}

}  // namespace esgate::auth
