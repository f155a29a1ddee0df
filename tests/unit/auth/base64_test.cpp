#include "esgate/auth/base64.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <random>
#include <string>

using esgate::auth::base64_decode;
using esgate::auth::base64_encode;
using esgate::auth::base64url_encode;

namespace {

struct decode_case {
  std::string input;
  std::optional<std::string> expected;  // nullopt = must be rejected
};

}  // namespace

TEST_CASE("base64_decode follows Java's basic decoder", "[auth][base64]") {
  using namespace std::string_literals;
  const decode_case cases[] = {
      {"", ""s},
      {"Zg==", "f"s},
      {"Zg", "f"s},  // padding is optional
      {"Zm8=", "fo"s},
      {"Zm8", "fo"s},
      {"Zm9v", "foo"s},
      {"Zm9vYmFy", "foobar"s},
      {"Zm9vYg==", "foob"s},
      {"+/8=", "\xfb\xff"s},
      {"AAAA", "\0\0\0"s},
      {"QR==", "A"s},              // non-zero unused bits are accepted, like Java
      {"Zg=", std::nullopt},       // incomplete padding
      {"Z", std::nullopt},         // a lone sextet
      {"Zm9vY", std::nullopt},     // dangling character after full units
      {"Zg==Zg==", std::nullopt},  // data after padding
      {"Zg===", std::nullopt},     // extra padding
      {"Zm9v=", std::nullopt},     // padding at the start of a unit
      {"====", std::nullopt},
      {"=", std::nullopt},
      {"-_8=", std::nullopt},  // URL-safe alphabet is not accepted
      {"Zm9v_", std::nullopt},
      {"Zm 9v", std::nullopt},  // whitespace
      {"Zm9v\n", std::nullopt},
      {"Zm9v\r\n", std::nullopt},
      {"\tZm9v", std::nullopt},
      {"Zm9v\0"s, std::nullopt},       // NUL
      {"Zm9v\xc3\xa9", std::nullopt},  // non-ASCII
      {"Zg==\0"s, std::nullopt},
      {"Z.9v", std::nullopt},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.input);
    CHECK(base64_decode(c.input) == c.expected);
  }
}

TEST_CASE("base64 encoders match RFC 4648 test vectors", "[auth][base64]") {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64_encode(plain) == encoded);
    std::string unpadded = encoded.substr(0, encoded.find('='));
    CHECK(base64url_encode(plain) == unpadded);
  }
  CHECK(base64_encode("\xfb\xff") == "+/8=");
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK(esgate::auth::base64_encoded_size(43) == 60);
  CHECK(esgate::auth::base64url_encoded_size(15) == 20);
  CHECK(esgate::auth::base64url_encoded_size(16) == 22);
}

TEST_CASE("base64 round-trips arbitrary bytes", "[auth][base64]") {
  std::mt19937 rng(12345);
  for (std::size_t len = 0; len < 200; ++len) {
    std::string bytes(len, '\0');
    for (auto& b : bytes) b = static_cast<char>(rng() & 0xff);
    std::string encoded = base64_encode(bytes);
    CHECK(encoded.size() == esgate::auth::base64_encoded_size(len));
    CHECK(base64_decode(encoded) == bytes);
    std::string unpadded = encoded.substr(0, encoded.find('='));
    CHECK(base64_decode(unpadded) == bytes);
    CHECK(base64url_encode(bytes).size() == unpadded.size());
  }
}
