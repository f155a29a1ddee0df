#include "esgate/auth/credentials.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <variant>

#include "esgate/auth/base64.hpp"

using namespace esgate::auth;
using namespace std::string_literals;

namespace {

const std::string id = "VuaCfGcBCdbkQm-e5aOx";        // 20 chars, from the ES docs
const std::string secret = "ui2lp2axTNmsyakw9tvNnw";  // 22 chars, from the ES docs
// /usr/bin/python3 -c 'import
// base64;print(base64.b64encode(b"VuaCfGcBCdbkQm-e5aOx:ui2lp2axTNmsyakw9tvNnw").decode())'
const std::string encoded = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==";

// "Basic " + unpadded base64 of "u:" + 3065 'x' is exactly 4096 bytes.
const std::string long_password(3065, 'x');
std::string basic_at_limit() {
  std::string b64 = base64_encode("u:" + long_password);
  return "Basic " + b64.substr(0, b64.find('='));
}

std::string api_key(std::string_view plain) { return "ApiKey " + base64_encode(plain); }
std::string basic(std::string_view plain) { return "Basic " + base64_encode(plain); }

credentials ok_key(std::string i = id, std::string s = secret) {
  return api_key_credentials{std::move(i), std::move(s)};
}
credentials ok_basic(std::string u, std::string p) {
  return basic_credentials{std::move(u), std::move(p)};
}
credentials bad_key(invalid_reason r) { return invalid_credentials{credential_scheme::api_key, r}; }
credentials bad_basic(invalid_reason r) { return invalid_credentials{credential_scheme::basic, r}; }
credentials bad_other(invalid_reason r) { return invalid_credentials{credential_scheme::other, r}; }

struct parse_case {
  const char* name;
  std::string header;
  credentials expected;
};

std::string describe(const credentials& c) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, no_credentials>)
          return "none";
        else if constexpr (std::is_same_v<T, basic_credentials>)
          return "basic " + v.username;
        else if constexpr (std::is_same_v<T, api_key_credentials>)
          return "api_key " + v.id;
        else
          return "invalid " + std::string(to_string(v.code));
      },
      c);
}

}  // namespace

TEST_CASE("parse_authorization: table", "[auth][credentials]") {
  using r = invalid_reason;
  const std::string unpadded = encoded.substr(0, encoded.size() - 2);
  const parse_case cases[] = {
      // --- no credentials
      {"empty value", "", no_credentials{}},
      // --- valid API keys
      {"canonical ApiKey", "ApiKey " + encoded, ok_key()},
      {"lowercase scheme", "apikey " + encoded, ok_key()},
      {"uppercase scheme", "APIKEY " + encoded, ok_key()},
      {"mixed-case scheme", "aPiKeY " + encoded, ok_key()},
      {"padding missing is valid", "ApiKey " + unpadded, ok_key()},
      {"built with encode_api_key", "ApiKey " + encode_api_key(id, secret), ok_key()},
      {"id and secret all '-' and '_'", api_key("--------------------:______________________"),
       ok_key("--------------------", "______________________")},
      // --- malformed ApiKey framing
      {"two spaces", "ApiKey  " + encoded, bad_key(r::bad_base64)},
      {"tab separator", "ApiKey\t" + encoded, bad_key(r::malformed_scheme)},
      {"space then tab", "ApiKey \t" + encoded, bad_key(r::bad_base64)},
      {"scheme only", "ApiKey", bad_key(r::malformed_scheme)},
      {"scheme and space only", "ApiKey ", bad_key(r::malformed_scheme)},
      {"trailing space", "ApiKey " + encoded + " ", bad_key(r::bad_base64)},
      {"trailing CRLF", "ApiKey " + encoded + "\r\n", bad_key(r::bad_base64)},
      {"header injection", "ApiKey " + encoded + "\r\nX-Admin: 1", bad_key(r::bad_base64)},
      {"NUL after value", "ApiKey " + encoded + "\0"s, bad_key(r::bad_base64)},
      {"NUL inside value", "ApiKey " + encoded.substr(0, 10) + "\0"s + encoded.substr(10),
       bad_key(r::bad_base64)},
      {"incomplete padding", "ApiKey " + encoded.substr(0, encoded.size() - 1),
       bad_key(r::bad_base64)},
      {"'-' in base64", "ApiKey -" + encoded.substr(1), bad_key(r::bad_base64)},
      {"'_' in base64", "ApiKey " + encoded.substr(0, 5) + "_" + encoded.substr(6),
       bad_key(r::bad_base64)},
      {"URL-safe encoding of a key with '+'/'/'", "ApiKey " + base64url_encode("\xfb\xff:x"),
       bad_key(r::bad_base64)},
      {"padding only", "ApiKey ====", bad_key(r::bad_base64)},
      {"universal key prefix", "ApiKey essu_" + encoded, bad_key(r::bad_base64)},
      // --- decoded ApiKey content
      {"no colon", api_key(id + secret), bad_key(r::missing_colon)},
      {"single byte", "ApiKey QQ", bad_key(r::missing_colon)},
      {"colon first", api_key(":" + secret), bad_key(r::bad_id)},
      {"only a colon", api_key(":"), bad_key(r::bad_id)},
      {"id 19 chars", api_key(id.substr(1) + ":" + secret), bad_key(r::bad_id)},
      {"id 21 chars", api_key(id + "A:" + secret), bad_key(r::bad_id)},
      {"id with '+'", api_key("VuaCfGcBCdbkQm+e5aOx:" + secret), bad_key(r::bad_id)},
      {"id with '.'", api_key("VuaCfGcBCdbkQm.e5aOx:" + secret), bad_key(r::bad_id)},
      {"id with space", api_key("VuaCfGcBCdbkQm e5aOx:" + secret), bad_key(r::bad_id)},
      {"id with unicode", api_key("VuaCfGcBCdbkQm-e5a\xc3\xb6:" + secret), bad_key(r::bad_id)},
      {"id with NUL", api_key("VuaCfGcBCdbkQm\0e5aOx:"s + secret), bad_key(r::bad_id)},
      {"redis glob in id", api_key("*******************:" + secret), bad_key(r::bad_id)},
      {"secret 21 chars", api_key(id + ":" + secret.substr(1)), bad_key(r::bad_secret)},
      {"secret 23 chars", api_key(id + ":" + secret + "x"), bad_key(r::bad_secret)},
      {"empty secret", api_key(id + ":"), bad_key(r::bad_secret)},
      {"secret with '='", api_key(id + ":" + secret.substr(1) + "="), bad_key(r::bad_secret)},
      {"second colon lands in secret", api_key(id + ":" + secret.substr(1) + ":"),
       bad_key(r::bad_secret)},
      {"secret with NUL", api_key(id + ":" + secret.substr(1) + "\0"s), bad_key(r::bad_secret)},
      {"secret with newline", api_key(id + ":" + secret.substr(1) + "\n"), bad_key(r::bad_secret)},
      // --- Basic
      {"canonical Basic", "Basic YWxpY2U6czNjcmV0", ok_basic("alice", "s3cret")},
      {"lowercase basic", "basic YWxpY2U6czNjcmV0", ok_basic("alice", "s3cret")},
      {"Basic unpadded", "Basic Ym9iOnB3MQ", ok_basic("bob", "pw1")},
      {"password with colons", basic("alice:pa:ss:"), ok_basic("alice", "pa:ss:")},
      {"empty password", basic("alice:"), ok_basic("alice", "")},
      {"password with tab", basic("alice:a\tb"), ok_basic("alice", "a\tb")},
      {"unicode user and password", basic("j\xc3\xb6rg:p\xc3\xa4ss \xe2\x9c\x93"),
       ok_basic("j\xc3\xb6rg", "p\xc3\xa4ss \xe2\x9c\x93")},
      {"Basic no colon", basic("alice"), bad_basic(r::missing_colon)},
      {"Basic single byte", "Basic QQ==", bad_basic(r::missing_colon)},
      {"Basic colon first", basic(":s3cret"), bad_basic(r::empty_username)},
      {"Basic colon only", "Basic Og==", bad_basic(r::empty_username)},
      {"Basic newline in username", basic("al\nice:pw"), bad_basic(r::bad_username)},
      {"Basic DEL in username",
       basic("al\x7f"
             "ice:pw"),
       bad_basic(r::bad_username)},
      {"Basic NUL in username", basic("al\0ice:pw"s), bad_basic(r::bad_username)},
      {"Basic invalid UTF-8 username", basic("\xff\xfe:pw"), bad_basic(r::bad_username)},
      {"Basic overlong UTF-8 '/'",
       basic("\xc0\xaf"
             "etc:pw"),
       bad_basic(r::bad_username)},
      {"Basic UTF-16 surrogate", basic("\xed\xa0\x80:pw"), bad_basic(r::bad_username)},
      {"Basic NUL in password", basic("alice:s3\0cret"s), bad_basic(r::bad_password)},
      {"Basic bad base64", "Basic YWxpY2U6czNjcmV0=", bad_basic(r::bad_base64)},
      {"Basic two spaces", "Basic  YWxpY2U6czNjcmV0", bad_basic(r::bad_base64)},
      {"Basic tab", "Basic\tYWxpY2U6czNjcmV0", bad_basic(r::malformed_scheme)},
      {"Basic alone", "Basic", bad_basic(r::malformed_scheme)},
      {"Basic space", "Basic ", bad_basic(r::malformed_scheme)},
      // --- other schemes and garbage
      {"Bearer", "Bearer abcdef", bad_other(r::unsupported_scheme)},
      {"Digest", "Digest username=\"a\", realm=\"b\"", bad_other(r::unsupported_scheme)},
      {"Negotiate", "Negotiate YIIB", bad_other(r::unsupported_scheme)},
      {"scheme glued to payload", "ApiKey" + encoded, bad_other(r::unsupported_scheme)},
      {"Basicfoo", "Basicfoo YWxpY2U6czNjcmV0", bad_other(r::unsupported_scheme)},
      {"leading space", " ApiKey " + encoded, bad_other(r::unsupported_scheme)},
      {"bare base64", encoded, bad_other(r::unsupported_scheme)},
      {"binary garbage", "\xff\xfe\xfd\x00\x01"s, bad_other(r::unsupported_scheme)},
      {"single space", " ", bad_other(r::unsupported_scheme)},
      {"unicode scheme", "\xc3\x84piKey " + encoded, bad_other(r::unsupported_scheme)},
      // --- length limit
      {"exactly 4096 bytes", basic_at_limit(), ok_basic("u", long_password)},
      {"4097 bytes", basic_at_limit() + "=", bad_basic(r::too_long)},
      {"4097 bytes of ApiKey", "ApiKey " + std::string(4089, 'A') + "=", bad_key(r::too_long)},
      {"overlong ApiKey", "ApiKey " + std::string(5000, 'A'), bad_key(r::too_long)},
      {"overlong Bearer", "Bearer " + std::string(5000, 'A'), bad_other(r::too_long)},
  };
  STATIC_REQUIRE(sizeof(cases) / sizeof(cases[0]) >= 40);
  for (const auto& c : cases) {
    INFO(c.name);
    auto got = parse_authorization(c.header);
    INFO("got " << describe(got) << ", expected " << describe(c.expected));
    CHECK(got == c.expected);
  }
}

TEST_CASE("the 4096-byte boundary is exact", "[auth][credentials]") {
  const std::string at_limit = basic_at_limit();
  REQUIRE(at_limit.size() == max_authorization_length);
  CHECK(parse_authorization(at_limit) == credentials{basic_credentials{"u", long_password}});
  CHECK(parse_authorization(at_limit + "=") ==
        credentials{invalid_credentials{credential_scheme::basic, invalid_reason::too_long}});
}

TEST_CASE("invalid reasons are fixed, ES-worded and never echo the header", "[auth][credentials]") {
  const std::set<std::string_view> allowed = {
      "invalid ApiKey value",
      "invalid basic authentication header encoding",
      "invalid basic authentication header value",
      "unsupported authentication scheme",
      "authorization header is too long",
  };
  const std::string password = "hunter2-very-secret";
  const std::string headers[] = {
      api_key(id + ":" + password),       basic(":" + password), basic("a\nb:" + password),
      basic("alice:" + password + "\0"s), "Bearer " + password,  "ApiKey " + password,
      "Basic " + password + "!",          "ApiKey\t" + password, "Basic " + std::string(5000, 'p'),
  };
  for (const auto& h : headers) {
    auto got = parse_authorization(h);
    REQUIRE(std::holds_alternative<invalid_credentials>(got));
    auto reason = std::get<invalid_credentials>(got).reason();
    INFO(reason);
    CHECK(allowed.count(reason) == 1);
    CHECK(reason.find(password) == std::string_view::npos);
    CHECK(reason.find("hunter") == std::string_view::npos);
  }
  CHECK(invalid_credentials{credential_scheme::api_key, invalid_reason::bad_base64}.reason() ==
        "invalid ApiKey value");
  CHECK(invalid_credentials{credential_scheme::basic, invalid_reason::bad_base64}.reason() ==
        "invalid basic authentication header encoding");
  CHECK(invalid_credentials{credential_scheme::basic, invalid_reason::missing_colon}.reason() ==
        "invalid basic authentication header value");
  CHECK(to_string(invalid_reason::bad_secret) == "bad_secret");
  CHECK(to_string(invalid_reason::too_long) == "too_long");
}

TEST_CASE("encode_api_key matches Elasticsearch's encoded field", "[auth][credentials]") {
  CHECK(encode_api_key(id, secret) == encoded);
  CHECK(encoded.size() == 60);
  CHECK(encoded.ends_with("=="));
  CHECK(encode_api_key("", "") == "Og==");
}

TEST_CASE("API key id and secret validators", "[auth][credentials]") {
  CHECK(is_valid_api_key_id(id));
  CHECK(is_valid_api_key_secret(secret));
  CHECK_FALSE(is_valid_api_key_id(secret));
  CHECK_FALSE(is_valid_api_key_secret(id));
  CHECK_FALSE(is_valid_api_key_id(""));
  CHECK_FALSE(is_valid_api_key_id("VuaCfGcBCdbkQm/e5aOx"));
  CHECK_FALSE(is_valid_api_key_secret("ui2lp2axTNmsyakw9tvNn="));
}
