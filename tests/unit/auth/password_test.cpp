#include "esgate/auth/password.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace esgate::auth;
using namespace std::string_literals;

// Openwall crypt_blowfish / OpenBSD test vectors (cost 5, so they are quick).
TEST_CASE("verify_password accepts published bcrypt vectors", "[auth][password]") {
  struct vector_case {
    std::string hash;
    std::string password;
  };
  const vector_case cases[] = {
      {"$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U"},
      {"$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "U*U*"},
      {"$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", "U*U*U"},
      {"$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy", ""},
  };
  for (const auto& c : cases) {
    INFO(c.hash);
    CHECK(is_bcrypt_hash(c.hash));
    CHECK(bcrypt_cost(c.hash) == 5);
    CHECK(verify_password(c.password, c.hash));
    CHECK_FALSE(verify_password(c.password + "x", c.hash));
  }
}

TEST_CASE("hash_password round-trips with cost >= 10", "[auth][password]") {
  auto hash = hash_password("correct horse battery staple", 10);
  CHECK(hash.size() == 60);
  CHECK(hash.starts_with("$2b$10$"));
  CHECK(is_bcrypt_hash(hash));
  CHECK(bcrypt_cost(hash) == 10);
  CHECK(verify_password("correct horse battery staple", hash));
  CHECK_FALSE(verify_password("correct horse battery stapl", hash));
  CHECK_FALSE(verify_password("correct horse battery staple ", hash));
  CHECK_FALSE(verify_password("", hash));
  CHECK_FALSE(verify_password("correct horse battery staple\0"s, hash));  // NUL is refused
  CHECK(hash_password("correct horse battery staple", 10) != hash);       // fresh salt

  // Tampering with any part of the hash breaks verification.
  for (std::size_t pos : {7u, 20u, 29u, 40u, 59u}) {
    auto tampered = hash;
    tampered[pos] = tampered[pos] == 'a' ? 'b' : 'a';
    INFO(pos);
    CHECK_FALSE(verify_password("correct horse battery staple", tampered));
  }
  // $2a$ / $2y$ prefixes of the same hash are the same algorithm for ASCII passwords.
  auto as_2y = "$2y$" + hash.substr(4);
  CHECK(verify_password("correct horse battery staple", as_2y));
}

TEST_CASE("hash_password default cost is 12", "[auth][password][slow]") {
  auto hash = hash_password("pw");
  CHECK(bcrypt_cost(hash) == 12);
  CHECK(verify_password("pw", hash));
}

TEST_CASE("hash_password refuses weak or ambiguous input", "[auth][password]") {
  CHECK_THROWS_AS(hash_password("pw", 9), std::invalid_argument);
  CHECK_THROWS_AS(hash_password("pw", 4), std::invalid_argument);
  CHECK_THROWS_AS(hash_password("pw", 32), std::invalid_argument);
  CHECK_THROWS_AS(hash_password("p\0w"s, 10), std::invalid_argument);
  CHECK_THROWS_AS(hash_password(std::string(73, 'x'), 10), std::invalid_argument);
  CHECK_NOTHROW(hash_password(std::string(72, 'x'), 10));
}

TEST_CASE("is_bcrypt_hash rejects malformed hashes", "[auth][password]") {
  const std::string good = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
  const std::string bad[] = {
      "",
      good.substr(0, 59),
      good + "x",
      "$2x$" + good.substr(4),
      "$2$05" + good.substr(6),
      "$1$05" + good.substr(5),
      "$2a$5$" + good.substr(7) + "C",
      "$2a$03" + good.substr(6),
      "$2a$32" + good.substr(6),
      "$2a$99" + good.substr(6),
      "$2a$0a" + good.substr(6),
      "$2a$05!" + good.substr(7),
      good.substr(0, 30) + "+" + good.substr(31),
      good.substr(0, 30) + "=" + good.substr(31),
      good.substr(0, 30) + "\0"s + good.substr(31),
      "{SSHA256}" + good.substr(9),
  };
  for (const auto& h : bad) {
    INFO(h);
    CHECK_FALSE(is_bcrypt_hash(h));
    CHECK(bcrypt_cost(h) == -1);
    CHECK_FALSE(verify_password("U*U", h));
  }
}
