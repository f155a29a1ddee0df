#include "esgate/auth/key_material.hpp"

#include <openssl/crypto.h>

#include <array>

#include "esgate/auth/base64.hpp"
#include "random.hpp"

namespace esgate::auth {
namespace {

template <std::size_t N>
std::string random_url_token() {
  std::array<unsigned char, N> bytes;
  detail::random_bytes(bytes);
  std::string out =
      base64url_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), N));
  OPENSSL_cleanse(bytes.data(), N);
  return out;
}

}  // namespace

std::string generate_key_id() {
  static_assert(base64url_encoded_size(15) == api_key_id_length);
  return random_url_token<15>();
}

std::string generate_key_secret() {
  static_assert(base64url_encoded_size(16) == api_key_secret_length);
  return random_url_token<16>();
}

}  // namespace esgate::auth
