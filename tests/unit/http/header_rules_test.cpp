// Edge header rules (threats.md A14, A15): request framing a backend could read differently from
// us is rejected, hop-by-hop and identity headers are recognised whatever their case.
#include "esgate/http/header_rules.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

namespace http = esgate::http;

#include "http/make_fields.hpp"

namespace {

using http::test::field_list;
using http::test::make_fields;

struct framing_case {
  const char* name;
  field_list fields;
  unsigned version;
  const char* expected;  // nullptr = accepted
};

}  // namespace

TEST_CASE("framing_problem table", "[header_rules]") {
  const std::string twenty_digits(20, '1');
  const std::string nineteen_digits = "1844674407370955161";
  const std::vector<framing_case> cases = {
      // Accepted.
      {"no framing", {{"Host", "es"}}, 11, nullptr},
      {"no framing 1.0", {{"Host", "es"}}, 10, nullptr},
      {"content-length", {{"Content-Length", "5"}}, 11, nullptr},
      {"content-length zero", {{"Content-Length", "0"}}, 11, nullptr},
      {"content-length 1.0", {{"Content-Length", "5"}}, 10, nullptr},
      {"content-length leading zeros", {{"Content-Length", "005"}}, 11, nullptr},
      {"content-length ows", {{"Content-Length", " 5\t"}}, 11, nullptr},
      {"content-length 19 digits", {{"Content-Length", nineteen_digits}}, 11, nullptr},
      {"chunked", {{"Transfer-Encoding", "chunked"}}, 11, nullptr},
      {"chunked mixed case", {{"transfer-encoding", "ChUnKeD"}}, 11, nullptr},
      {"chunked trimmed", {{"Transfer-Encoding", " chunked "}}, 11, nullptr},
      {"tab in value", {{"X-Thing", "a\tb"}}, 11, nullptr},
      {"obs-text in value", {{"X-Thing", "caf\xc3\xa9"}}, 11, nullptr},
      // Smuggling shapes.
      {"duplicate content-length",
       {{"Content-Length", "5"}, {"Content-Length", "5"}},
       11,
       "multiple Content-Length headers are not allowed"},
      {"duplicate content-length mixed case",
       {{"Content-Length", "5"}, {"content-LENGTH", "6"}},
       11,
       "multiple Content-Length headers are not allowed"},
      {"content-length list", {{"Content-Length", "5, 5"}}, 11, "invalid Content-Length"},
      {"content-length plus", {{"Content-Length", "+5"}}, 11, "invalid Content-Length"},
      {"content-length minus", {{"Content-Length", "-1"}}, 11, "invalid Content-Length"},
      {"content-length inner space", {{"Content-Length", "5 5"}}, 11, "invalid Content-Length"},
      {"content-length empty", {{"Content-Length", ""}}, 11, "invalid Content-Length"},
      {"content-length blank", {{"Content-Length", "  "}}, 11, "invalid Content-Length"},
      {"content-length hex", {{"Content-Length", "0x10"}}, 11, "invalid Content-Length"},
      {"content-length 20 digits",
       {{"Content-Length", twenty_digits}},
       11,
       "invalid Content-Length"},
      {"cl and te",
       {{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}},
       11,
       "Transfer-Encoding and Content-Length must not be sent together"},
      {"te and cl",
       {{"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}},
       11,
       "Transfer-Encoding and Content-Length must not be sent together"},
      {"te on 1.0",
       {{"Transfer-Encoding", "chunked"}},
       10,
       "Transfer-Encoding is not allowed on HTTP/1.0 requests"},
      {"te gzip chunked",
       {{"Transfer-Encoding", "gzip, chunked"}},
       11,
       "unsupported Transfer-Encoding [gzip, chunked]"},
      {"te chunked chunked",
       {{"Transfer-Encoding", "chunked, chunked"}},
       11,
       "unsupported Transfer-Encoding [chunked, chunked]"},
      {"te identity",
       {{"Transfer-Encoding", "identity"}},
       11,
       "unsupported Transfer-Encoding [identity]"},
      {"te empty", {{"Transfer-Encoding", ""}}, 11, "unsupported Transfer-Encoding []"},
      {"te chunked with parameter",
       {{"Transfer-Encoding", "chunked;q=1"}},
       11,
       "unsupported Transfer-Encoding [chunked;q=1]"},
      {"duplicate te",
       {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
       11,
       "multiple Transfer-Encoding headers are not allowed"},
      {"duplicate te mixed case",
       {{"Transfer-Encoding", "gzip"}, {"TRANSFER-ENCODING", "chunked"}},
       11,
       "multiple Transfer-Encoding headers are not allowed"},
      // Names a backend mapping '_' to '-' would read as framing fields.
      {"te underscore",
       {{"Transfer_Encoding", "chunked"}},
       11,
       "header [Transfer_Encoding] is not allowed: it reads as a framing header"},
      {"cl underscore lower case",
       {{"Content-Length", "5"}, {"content_length", "6"}},
       11,
       "header [content_length] is not allowed: it reads as a framing header"},
      {"other underscore names are fine", {{"X_Thing", "1"}, {"Content_Type", "a"}}, 11, nullptr},
      // Control characters anywhere, even in unrelated fields.
      {"nul in value",
       {{"X-Thing", std::string("a\0b", 3)}},
       11,
       "invalid character in header [X-Thing]"},
      {"cr in value", {{"X-Thing", "a\rb"}}, 11, "invalid character in header [X-Thing]"},
      {"lf in value",
       {{"X-Thing", "a\nX-Injected: 1"}},
       11,
       "invalid character in header [X-Thing]"},
      {"del in value", {{"X-Thing", "a\x7f"}}, 11, "invalid character in header [X-Thing]"},
      {"vt in content-length",
       {{"Content-Length", "5\x0b"}},
       11,
       "invalid character in header [Content-Length]"},
      {"ctl before framing checks",
       {{"Content-Length", "5"}, {"Content-Length", "5"}, {"X-A", "\x01"}},
       11,
       "invalid character in header [X-A]"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto f = make_fields(c.fields);
      auto problem = http::framing_problem(f, c.version);
      if (c.expected == nullptr) {
        CHECK_FALSE(problem.has_value());
        if (problem) UNSCOPED_INFO("unexpected: " << *problem);
      } else {
        REQUIRE(problem.has_value());
        CHECK(*problem == c.expected);
      }
    }
  }
}

TEST_CASE("is_identity_header ignores case", "[header_rules]") {
  for (const char* name :
       {"Authorization", "aUtHoRiZaTiOn", "AUTHORIZATION", "es-security-runas-user",
        "ES-Security-RunAs-User", "X-Forwarded-For", "x-forwarded-for", "X-Forwarded-Proto",
        "X-Forwarded-Host", "X-Forwarded-User", "Forwarded", "X-Real-IP", "x-real-ip",
        "X-Remote-User", "sg_impersonate_as", "SG_IMPERSONATE_AS",
        "opendistro_security_impersonate_as"}) {
    INFO(name);
    CHECK(http::is_identity_header(name));
  }
  for (const char* name : {"Host", "Authorizatio", "Authorization2", "X-Forwarded", "Accept",
                           "X-Opaque-Id", "traceparent", "", "Proxy-Authorization"}) {
    INFO(name);
    CHECK_FALSE(http::is_identity_header(name));
  }
}

TEST_CASE("is_hop_by_hop covers RFC 9110 fields and Connection-named ones", "[header_rules]") {
  const std::vector<std::string_view> none;
  for (const char* name : {"Connection", "connection", "Keep-Alive", "Proxy-Connection",
                           "Proxy-Authenticate", "Proxy-Authorization", "PROXY-AUTHORIZATION", "TE",
                           "te", "Trailer", "Transfer-Encoding", "transfer-encoding", "Upgrade"}) {
    INFO(name);
    CHECK(http::is_hop_by_hop(name, none));
  }
  for (const char* name :
       {"Host", "Content-Length", "Expect", "Authorization", "X-Secret", "Trailers", "TE2", ""}) {
    INFO(name);
    CHECK_FALSE(http::is_hop_by_hop(name, none));
  }
  const std::vector<std::string_view> named = {"X-Secret", "close"};
  CHECK(http::is_hop_by_hop("x-secret", named));
  CHECK(http::is_hop_by_hop("X-SECRET", named));
  CHECK_FALSE(http::is_hop_by_hop("X-Secret2", named));
}

TEST_CASE("connection_named_fields splits every Connection field", "[header_rules]") {
  auto f = make_fields({{"Connection", "close, X-Secret"},
                        {"Host", "es"},
                        {"connection", " keep-alive ,,X-Other\t"}});
  auto named = http::connection_named_fields(f);
  CHECK(named == std::vector<std::string_view>{"close", "X-Secret", "keep-alive", "X-Other"});

  CHECK(http::connection_named_fields(make_fields({{"Host", "es"}})).empty());
  CHECK(http::connection_named_fields(make_fields({{"Connection", ""}})).empty());
}
