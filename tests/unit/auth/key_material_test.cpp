#include "esgate/auth/key_material.hpp"

#include <catch2/catch.hpp>

#include <set>

#include "esgate/auth/credentials.hpp"

using namespace esgate::auth;

TEST_CASE("generated ids and secrets have Elasticsearch's shape", "[auth][key_material]") {
  std::set<std::string> ids, secrets;
  for (int i = 0; i < 2000; ++i) {
    auto id = generate_key_id();
    auto secret = generate_key_secret();
    REQUIRE(id.size() == 20);
    REQUIRE(secret.size() == 22);
    REQUIRE(is_valid_api_key_id(id));
    REQUIRE(is_valid_api_key_secret(secret));
    ids.insert(id);
    secrets.insert(secret);
    // 16 bytes in 22 characters: the last character carries only 2 bits.
    REQUIRE(std::string_view("AQgw").find(secret.back()) != std::string_view::npos);
    // A generated pair is accepted by the header parser.
    auto parsed = parse_authorization("ApiKey " + encode_api_key(id, secret));
    REQUIRE(parsed == credentials{api_key_credentials{id, secret}});
  }
  CHECK(ids.size() == 2000);
  CHECK(secrets.size() == 2000);
}

TEST_CASE("generated ids use the whole URL-safe alphabet", "[auth][key_material]") {
  std::set<char> seen;
  for (int i = 0; i < 500; ++i)
    for (char c : generate_key_id()) seen.insert(c);
  CHECK(seen.size() == 64);  // 10000 draws from 64 symbols: missing one is ~1e-66 likely
}
