#include "esgate/auth/cache_digest.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdint>
#include <stdexcept>
#include <utility>

#include "random.hpp"

namespace esgate::auth {
namespace {

constexpr std::size_t sha256_block = 64;

const EVP_MD* sha256_md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// One reusable context per thread: EVP_MD_CTX_copy_ex into it is the cheapest way to start from a
// pre-keyed state with OpenSSL 3's EVP API, and keeping it per thread makes digest() safe to call
// concurrently on a shared digester without locks.
struct scratch_context {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~scratch_context() { EVP_MD_CTX_free(ctx); }
};

EVP_MD_CTX* scratch() {
  thread_local scratch_context s;
  if (s.ctx == nullptr) throw std::runtime_error("EVP_MD_CTX_new failed");
  return s.ctx;
}

void be64(unsigned char* out, std::uint64_t v) noexcept {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
}

bool absorb(EVP_MD_CTX* ctx, std::string_view part) noexcept {
  unsigned char len[8];
  be64(len, part.size());
  return EVP_DigestUpdate(ctx, len, sizeof len) == 1 &&
         EVP_DigestUpdate(ctx, part.data(), part.size()) == 1;
}

}  // namespace

bool equal(const cache_digest& a, const cache_digest& b) noexcept {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

cache_digester::cache_digester() {
  std::array<unsigned char, key_size> key;
  detail::random_bytes(key);
  try {
    init(key);
  } catch (...) {
    OPENSSL_cleanse(key.data(), key.size());
    throw;
  }
  OPENSSL_cleanse(key.data(), key.size());
}

cache_digester::cache_digester(std::span<const unsigned char, key_size> key) { init(key); }

cache_digester::~cache_digester() { reset(); }

cache_digester::cache_digester(cache_digester&& other) noexcept
    : inner_(std::exchange(other.inner_, nullptr)), outer_(std::exchange(other.outer_, nullptr)) {}

cache_digester& cache_digester::operator=(cache_digester&& other) noexcept {
  if (this != &other) {
    reset();
    inner_ = std::exchange(other.inner_, nullptr);
    outer_ = std::exchange(other.outer_, nullptr);
  }
  return *this;
}

void cache_digester::reset() noexcept {
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
  inner_ = outer_ = nullptr;
}

void cache_digester::init(std::span<const unsigned char, key_size> key) {
  unsigned char ipad[sha256_block];
  unsigned char opad[sha256_block];
  for (std::size_t i = 0; i < sha256_block; ++i) {
    unsigned char k = i < key.size() ? key[i] : 0;
    ipad[i] = k ^ 0x36;
    opad[i] = k ^ 0x5c;
  }
  inner_ = EVP_MD_CTX_new();
  outer_ = EVP_MD_CTX_new();
  bool ok = sha256_md() != nullptr && inner_ != nullptr && outer_ != nullptr &&
            EVP_DigestInit_ex(inner_, sha256_md(), nullptr) == 1 &&
            EVP_DigestUpdate(inner_, ipad, sizeof ipad) == 1 &&
            EVP_DigestInit_ex(outer_, sha256_md(), nullptr) == 1 &&
            EVP_DigestUpdate(outer_, opad, sizeof opad) == 1;
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
  if (!ok) {
    reset();
    throw std::runtime_error("cache_digester: OpenSSL SHA-256 set-up failed");
  }
}

cache_digest cache_digester::digest(std::string_view a, std::string_view b) const {
  EVP_MD_CTX* ctx = scratch();
  cache_digest inner_hash{};
  cache_digest out{};
  unsigned int len = 0;
  bool ok = EVP_MD_CTX_copy_ex(ctx, inner_) == 1 && absorb(ctx, a) && absorb(ctx, b) &&
            EVP_DigestFinal_ex(ctx, inner_hash.data(), &len) == 1 &&
            EVP_MD_CTX_copy_ex(ctx, outer_) == 1 &&
            EVP_DigestUpdate(ctx, inner_hash.data(), inner_hash.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, out.data(), &len) == 1;
  if (!ok) throw std::runtime_error("cache_digester: SHA-256 failed");
  return out;
}

}  // namespace esgate::auth
