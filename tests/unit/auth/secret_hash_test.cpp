#include "esgate/auth/secret_hash.hpp"

#include <catch2/catch.hpp>

#include <string>

#include "esgate/auth/password.hpp"

using namespace esgate::auth;

namespace {

const std::string secret = "ui2lp2axTNmsyakw9tvNnw";

// Independently computed vectors. Commands (run once, output pasted):
// /usr/bin/python3 -c 'import hashlib,base64; s=b"ui2lp2axTNmsyakw9tvNnw"; salt=bytes(range(1,9));
//   print("{SSHA256}"+base64.b64encode(salt).decode()+base64.b64encode(hashlib.sha256(s+salt).digest()).decode())'
const std::string ssha256_vector =
    "{SSHA256}AQIDBAUGBwg=FZ6/ia6EAcWtoVgtnFzWXq2Xh11w0qDyf7lqwdkZdB0=";
// Same with the 7-byte salt bytes(range(1,8)): a correct digest, but a salt below ES's minimum.
const std::string ssha256_short_salt =
    "{SSHA256}AQIDBAUGBw==htS/OQZ2jGpE4b9D/p9ZZmLAvJTSaVpNKA4utDk6HC8=";
// /usr/bin/python3 -c 'import hashlib,base64; s=b"ui2lp2axTNmsyakw9tvNnw"; salt=bytes(range(32));
//   print("{PBKDF2}10000$"+base64.b64encode(salt).decode()+"$"+
//         base64.b64encode(hashlib.pbkdf2_hmac("sha512",s,salt,10000,32)).decode())'
const std::string pbkdf2_vector =
    "{PBKDF2}10000$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=$"
    "kXWEM5e/MswqUtt7H2M3fZZK6WIMhDoLn7tVirBCFmE=";
// hashlib.pbkdf2_hmac("sha512", b"password", b"saltsalt", 1000, 32) and the same with dklen=64
// (ES derives the key length from the stored text).
const std::string pbkdf2_password_1000 =
    "{PBKDF2}1000$c2FsdHNhbHQ=$Q6v4xwJ8a9nWPp2BeEoAYYhHSo2xRmPWART17vTpSxs=";
const std::string pbkdf2_password_1000_64 =
    "{PBKDF2}1000$c2FsdHNhbHQ=$Q6v4xwJ8a9nWPp2BeEoAYYhHSo2xRmPWART17vTpSxt2q6iNp7BOozW557qqa95eNjUO"
    "4gKs0CyvJbYGGku1tA==";
// hashlib.pbkdf2_hmac("sha512", b"ui2lp2axTNmsyakw9tvNnw", b"salt", 1000, 32): 4-byte salt.
const std::string pbkdf2_short_salt =
    "{PBKDF2}1000$c2FsdA==$6bHFqwy7UKvwOixAix2gaNda2/cekaoQT/yd8Wtt1to=";

std::string flip(std::string s, std::size_t pos) {
  s[pos] = s[pos] == 'A' ? 'B' : 'A';
  return s;
}

}  // namespace

TEST_CASE("verify_secret accepts independently computed vectors", "[auth][secret_hash]") {
  CHECK(verify_secret(secret, ssha256_vector));
  CHECK(verify_secret(secret, pbkdf2_vector));
  CHECK(verify_secret("password", pbkdf2_password_1000));
  CHECK(verify_secret("password", pbkdf2_password_1000_64));
}

TEST_CASE("verify_secret rejects wrong secrets and malformed stored values",
          "[auth][secret_hash]") {
  struct reject_case {
    const char* name;
    std::string secret;
    std::string stored;
  };
  const std::string wrong = "ui2lp2axTNmsyakw9tvNnW";
  const reject_case cases[] = {
      {"SSHA256 wrong secret", wrong, ssha256_vector},
      {"SSHA256 empty secret", "", ssha256_vector},
      {"SSHA256 secret with suffix", secret + "x", ssha256_vector},
      {"SSHA256 tampered digest", secret, flip(ssha256_vector, 30)},
      {"SSHA256 tampered salt", secret, flip(ssha256_vector, 10)},
      {"SSHA256 truncated", secret, ssha256_vector.substr(0, 40)},
      {"SSHA256 extended", secret, ssha256_vector + "A"},
      {"SSHA256 digest without padding", secret, ssha256_vector.substr(0, 64)},
      {"SSHA256 NUL inside", secret,
       ssha256_vector.substr(0, 30) + std::string(1, '\0') + ssha256_vector.substr(31)},
      {"SSHA256 prefix only", secret, "{SSHA256}"},
      {"SSHA256 salt only", secret, "{SSHA256}AQIDBAUGBwg="},
      {"SSHA256 salt below 8 bytes", secret, ssha256_short_salt},
      {"SSHA256 URL-safe salt", secret, "{SSHA256}AQIDBAUGB-_=" + ssha256_vector.substr(21)},
      {"SSHA256 lowercase prefix", secret, "{ssha256}" + ssha256_vector.substr(9)},
      {"PBKDF2 wrong secret", wrong, pbkdf2_vector},
      {"PBKDF2 tampered key", secret, flip(pbkdf2_vector, pbkdf2_vector.size() - 5)},
      {"PBKDF2 tampered salt", secret, flip(pbkdf2_vector, 20)},
      {"PBKDF2 other iteration count", secret, "{PBKDF2}10001" + pbkdf2_vector.substr(13)},
      {"PBKDF2 999 iterations", "password", "{PBKDF2}999" + pbkdf2_password_1000.substr(12)},
      {"PBKDF2 10000001 iterations", "password",
       "{PBKDF2}10000001" + pbkdf2_password_1000.substr(12)},
      {"PBKDF2 huge iterations", "password",
       "{PBKDF2}99999999999999999999" + pbkdf2_password_1000.substr(12)},
      {"PBKDF2 signed iterations", "password", "{PBKDF2}+1000" + pbkdf2_password_1000.substr(12)},
      {"PBKDF2 negative iterations", "password", "{PBKDF2}-1000" + pbkdf2_password_1000.substr(12)},
      {"PBKDF2 no iterations", "password", "{PBKDF2}" + pbkdf2_password_1000.substr(12)},
      {"PBKDF2 salt below 8 bytes", secret, pbkdf2_short_salt},
      {"PBKDF2 bad base64 salt", "password",
       "{PBKDF2}1000$c2F-dHNhbHQ=$Q6v4xwJ8a9nWPp2BeEoAYYhHSo2xRmPWART17vTpSxs="},
      {"PBKDF2 bad base64 key", "password",
       "{PBKDF2}1000$c2FsdHNhbHQ=$Q6v4xwJ8a9nWPp2BeEoAYYhHSo2xRmPWART17vTpS_s="},
      {"PBKDF2 empty key", "password", "{PBKDF2}1000$c2FsdHNhbHQ=$"},
      {"PBKDF2 short key", "password", "{PBKDF2}1000$c2FsdHNhbHQ=$Q6v4xwJ8"},
      {"PBKDF2 missing second $", "password", "{PBKDF2}1000$c2FsdHNhbHQ="},
      {"PBKDF2 extra field", "password", pbkdf2_password_1000 + "$"},
      {"PBKDF2 prefix only", "password", "{PBKDF2}"},
      {"PBKDF2_STRETCH not supported", "password",
       "{PBKDF2_STRETCH}" + pbkdf2_password_1000.substr(8)},
      {"empty stored", secret, ""},
      {"plain secret stored", secret, secret},
      {"unknown prefix", secret, "{SHA}" + ssha256_vector.substr(9)},
      {"bcrypt-looking garbage", secret, "$2b$10$" + std::string(53, '!')},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK_FALSE(verify_secret(c.secret, c.stored));
  }
}

TEST_CASE("hash_ssha256 round-trips and has ES's shape", "[auth][secret_hash]") {
  for (const std::string& s : {secret, std::string(), std::string("p\xc3\xa4ss:\0x", 8)}) {
    auto stored = hash_ssha256(s);
    CHECK(stored.size() == 65);
    CHECK(stored.starts_with("{SSHA256}"));
    CHECK(stored.substr(9, 12).ends_with("="));
    CHECK(verify_secret(s, stored));
    CHECK_FALSE(verify_secret(s + "x", stored));
    CHECK_FALSE(is_slow_hash(stored));
    auto info = identify_hash(stored);
    REQUIRE(info);
    CHECK(info->algorithm == hash_algorithm::ssha256);
  }
  CHECK(hash_ssha256(secret) != hash_ssha256(secret));  // fresh salt every time
}

TEST_CASE("hash_pbkdf2 round-trips and has ES's shape", "[auth][secret_hash]") {
  auto stored = hash_pbkdf2(secret, 1000);
  CHECK(stored.starts_with("{PBKDF2}1000$"));
  CHECK(stored.size() == std::string("{PBKDF2}1000$").size() + 44 + 1 + 44);
  CHECK(verify_secret(secret, stored));
  CHECK_FALSE(verify_secret(secret.substr(1), stored));
  CHECK(is_slow_hash(stored));
  auto info = identify_hash(stored);
  REQUIRE(info);
  CHECK(info->algorithm == hash_algorithm::pbkdf2);
  CHECK(info->cost == 1000);
  CHECK(hash_pbkdf2(secret, 1000) != stored);

  auto default_cost = hash_pbkdf2(secret);
  CHECK(default_cost.starts_with("{PBKDF2}10000$"));
  CHECK(verify_secret(secret, default_cost));

  CHECK_THROWS_AS(hash_pbkdf2(secret, 999), std::invalid_argument);
  CHECK_THROWS_AS(hash_pbkdf2(secret, 10'000'001), std::invalid_argument);
  CHECK_THROWS_AS(hash_pbkdf2(secret, -1), std::invalid_argument);
}

TEST_CASE("verify_secret also accepts bcrypt", "[auth][secret_hash]") {
  auto stored = hash_password(secret, 10);
  CHECK(verify_secret(secret, stored));
  CHECK_FALSE(verify_secret("nope", stored));
  CHECK(is_slow_hash(stored));
  auto info = identify_hash(stored);
  REQUIRE(info);
  CHECK(info->algorithm == hash_algorithm::bcrypt);
  CHECK(info->cost == 10);
}

TEST_CASE("identify_hash and is_slow_hash", "[auth][secret_hash]") {
  CHECK_FALSE(is_slow_hash(ssha256_vector));
  CHECK(is_slow_hash(pbkdf2_vector));
  CHECK(is_slow_hash("$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"));
  CHECK_FALSE(is_slow_hash(""));
  CHECK_FALSE(is_slow_hash("{PBKDF2}999$c2FsdHNhbHQ=$x"));
  CHECK_FALSE(is_slow_hash("$2b$10$short"));
  CHECK_FALSE(identify_hash("{MD5}abc"));
  auto info = identify_hash(pbkdf2_vector);
  REQUIRE(info);
  CHECK(info->cost == 10000);
}
