#include "esgate/auth/password.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include "random.hpp"

namespace esgate::auth {
namespace {

constexpr std::size_t bcrypt_hash_length = 60;

bool is_bcrypt_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '/';
}

// struct crypt_data is ~32 KB: too big for a coroutine or worker stack, so it lives on the heap.
// It is wiped before release because crypt_r leaves key material in its internal state.
struct crypt_data_deleter {
  void operator()(crypt_data* p) const noexcept {
    OPENSSL_cleanse(p, sizeof(crypt_data));
    delete p;
  }
};
using crypt_data_ptr = std::unique_ptr<crypt_data, crypt_data_deleter>;

crypt_data_ptr make_crypt_data() {
  // Value-initialised: libxcrypt requires a zeroed struct on first use.
  return crypt_data_ptr(new (std::nothrow) crypt_data{});
}

// crypt_r signals failure with NULL or, with failure tokens enabled, a string starting with '*'.
bool crypt_failed(const char* out) noexcept { return out == nullptr || out[0] == '*'; }

}  // namespace

bool is_bcrypt_hash(std::string_view hash) noexcept { return bcrypt_cost(hash) >= 0; }

int bcrypt_cost(std::string_view hash) noexcept {
  if (hash.size() != bcrypt_hash_length) return -1;
  if (hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') return -1;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return -1;
  if (hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9') return -1;
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return -1;
  if (!std::all_of(hash.begin() + 7, hash.end(), is_bcrypt_char)) return -1;
  return cost;
}

std::string hash_password(std::string_view password, int cost) {
  if (cost < bcrypt_min_cost || cost > bcrypt_max_cost)
    throw std::invalid_argument("bcrypt cost must be between 10 and 31");
  if (password.find('\0') != std::string_view::npos)
    throw std::invalid_argument("password must not contain NUL");
  if (password.size() > bcrypt_max_password_bytes)
    throw std::invalid_argument("password is longer than bcrypt's 72-byte limit");

  std::array<unsigned char, 16> salt_bytes;  // bcrypt uses 128 bits of salt
  detail::random_bytes(salt_bytes);
  std::array<char, CRYPT_GENSALT_OUTPUT_SIZE> setting{};
  const char* s = crypt_gensalt_rn(
      "$2b$", static_cast<unsigned long>(cost), reinterpret_cast<const char*>(salt_bytes.data()),
      static_cast<int>(salt_bytes.size()), setting.data(), static_cast<int>(setting.size()));
  if (s == nullptr || s[0] == '*') throw std::runtime_error("crypt_gensalt_rn failed");

  auto data = make_crypt_data();
  if (!data) throw std::bad_alloc();
  std::string phrase(password);  // crypt_r needs a NUL-terminated string
  const char* out = crypt_r(phrase.c_str(), setting.data(), data.get());
  OPENSSL_cleanse(phrase.data(), phrase.size());
  if (crypt_failed(out) || !is_bcrypt_hash(out)) throw std::runtime_error("bcrypt hashing failed");
  return std::string(out);
}

bool verify_password(std::string_view password, std::string_view bcrypt_hash) noexcept {
  if (!is_bcrypt_hash(bcrypt_hash)) return false;
  if (password.find('\0') != std::string_view::npos) return false;
  try {
    auto data = make_crypt_data();
    if (!data) return false;
    std::string phrase(password);
    std::string setting(bcrypt_hash);
    const char* out = crypt_r(phrase.c_str(), setting.c_str(), data.get());
    OPENSSL_cleanse(phrase.data(), phrase.size());
    if (crypt_failed(out) || std::strlen(out) != bcrypt_hash.size()) return false;
    return CRYPTO_memcmp(out, bcrypt_hash.data(), bcrypt_hash.size()) == 0;
  } catch (...) {  // std::bad_alloc from the copies
    return false;
  }
}

}  // namespace esgate::auth
