// Request-line and Host rules (issue 10, threats.md A15): one table per rule set, one line per
// case. The integration corpus (tests/integration/test_smuggling.py) sends the same shapes over a
// socket and checks that nothing reaches the upstream.
#include "esgate/http/request_head.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

namespace http = esgate::http;

#include "http/make_fields.hpp"

namespace {

using http::test::field_list;
using http::test::make_fields;

struct head_case {
  const char* name;
  const char* method;
  std::string target;
  unsigned version;
  field_list fields;
  int status;          // 0 = accepted
  const char* reason;  // expected reason (nullptr = not checked)
  const char* origin;  // expected origin_form when accepted ("" = none)
};

}  // namespace

TEST_CASE("valid_host table", "[request_head]") {
  for (const char* ok :
       {"es", "127.0.0.1", "127.0.0.1:9243", "localhost:1", "a.b-c_d~e", "example.com.",
        "ex%41mple", "!$&'()*+,;=", "[::1]", "[::1]:9200", "[2001:db8::7]", "[::ffff:192.0.2.1]:80",
        "[v1.fe80::a+en1]", "h:65535", "", "h:00080"}) {
    INFO(ok);
    CHECK(http::valid_host(ok));
  }
  for (const char* bad : {"h:",   ":80",    "h:65536", "h:123456",  "h:8a",
                          "h:-1", "h:+80",  "h: 80",   "h:80:80",   "a b",
                          "a/b",  "a\\b",   "a@b",     "user@h:80", "h?x",
                          "h#x",  "%",      "%4",      "%zz",       "[::1",
                          "::1",  "[::1]x", "[::1]:",  "[::g]",     "[fe80::1%25eth0]",
                          "[]",   "[v.x]",  "[v1.]",   "[vx.a]",    "é",
                          "a\"b", "a<b",    "a{b",     "h\t",       "[1.2.3.4]"}) {
    INFO(bad);
    CHECK_FALSE(http::valid_host(bad));
  }
  CHECK_FALSE(http::valid_host(std::string("a\0b", 3)));
}

TEST_CASE("check_request_head table", "[request_head]") {
  const std::vector<head_case> cases = {
      // Accepted.
      {"origin-form", "GET", "/", 11, {{"Host", "es"}}, 0, nullptr, ""},
      {"host with port", "GET", "/_search", 11, {{"Host", "127.0.0.1:9243"}}, 0, nullptr, ""},
      {"host ipv6", "GET", "/", 11, {{"Host", "[::1]:9243"}}, 0, nullptr, ""},
      {"empty host with origin-form", "GET", "/", 11, {{"Host", ""}}, 0, nullptr, ""},
      {"1.0 without host", "GET", "/", 10, {}, 0, nullptr, ""},
      {"1.0 with host", "GET", "/", 10, {{"Host", "es"}}, 0, nullptr, ""},
      {"lowercase host name", "GET", "/", 11, {{"host", "es"}}, 0, nullptr, ""},
      {"absolute-form agreeing",
       "GET",
       "http://es:9243/books/_search?q=1",
       11,
       {{"Host", "es:9243"}},
       0,
       nullptr,
       "/books/_search?q=1"},
      {"absolute-form https, case-insensitive",
       "GET",
       "HTTPS://ES/x",
       11,
       {{"Host", "es"}},
       0,
       nullptr,
       "/x"},
      {"absolute-form empty path", "GET", "http://es", 11, {{"Host", "es"}}, 0, nullptr, "/"},
      {"absolute-form empty path with query",
       "GET",
       "http://es?q=1",
       11,
       {{"Host", "es"}},
       0,
       nullptr,
       "/?q=1"},
      {"absolute-form 1.0 without host", "GET", "http://es/x", 10, {}, 0, nullptr, "/x"},
      {"connect lowercase is just an unknown method",
       "connect",
       "/",
       11,
       {{"Host", "es"}},
       0,
       nullptr,
       ""},
      {"asterisk-form left to the session", "OPTIONS", "*", 11, {{"Host", "es"}}, 0, nullptr, ""},
      {"authority-form left to the session", "GET", "es:443", 11, {{"Host", "es"}}, 0, nullptr, ""},
      // Methods.
      {"connect",
       "CONNECT",
       "es:443",
       11,
       {{"Host", "es:443"}},
       405,
       "method [CONNECT] is not allowed",
       ""},
      {"trace", "TRACE", "/", 11, {{"Host", "es"}}, 405, "method [TRACE] is not allowed", ""},
      {"trace without host", "TRACE", "/", 11, {}, 405, nullptr, ""},
      // Upgrades.
      {"upgrade h2c",
       "GET",
       "/",
       11,
       {{"Host", "es"},
        {"Connection", "Upgrade, HTTP2-Settings"},
        {"Upgrade", "h2c"},
        {"HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"}},
       400,
       "the [Upgrade] header is not supported: no protocol upgrades",
       ""},
      {"upgrade websocket",
       "GET",
       "/",
       11,
       {{"Host", "es"}, {"upgrade", "websocket"}},
       400,
       nullptr,
       ""},
      {"upgrade empty", "GET", "/", 11, {{"Host", "es"}, {"Upgrade", ""}}, 400, nullptr, ""},
      {"http2-settings alone",
       "GET",
       "/",
       11,
       {{"Host", "es"}, {"http2-settings", "AAMA"}},
       400,
       "the [HTTP2-Settings] header is not supported: no HTTP/2 upgrade",
       ""},
      // Host.
      {"missing host",
       "GET",
       "/",
       11,
       {},
       400,
       "an HTTP/1.1 request must carry a [Host] header",
       ""},
      {"two hosts",
       "GET",
       "/",
       11,
       {{"Host", "es"}, {"Host", "es"}},
       400,
       "a request must carry exactly one [Host] header, found 2",
       ""},
      {"two hosts mixed case", "GET", "/", 11, {{"Host", "a"}, {"hOST", "b"}}, 400, nullptr, ""},
      {"two hosts on 1.0", "GET", "/", 10, {{"Host", "a"}, {"Host", "b"}}, 400, nullptr, ""},
      {"host list", "GET", "/", 11, {{"Host", "a, b"}}, 400, "invalid [Host] header", ""},
      {"host with path", "GET", "/", 11, {{"Host", "es/x"}}, 400, nullptr, ""},
      {"host with userinfo", "GET", "/", 11, {{"Host", "u@es"}}, 400, nullptr, ""},
      {"host with space", "GET", "/", 11, {{"Host", "e s"}}, 400, nullptr, ""},
      {"host bad port", "GET", "/", 11, {{"Host", "es:x"}}, 400, nullptr, ""},
      {"host bad on 1.0", "GET", "/", 10, {{"Host", "es/x"}}, 400, nullptr, ""},
      // Absolute-form.
      {"absolute-form other host",
       "GET",
       "http://evil/x",
       11,
       {{"Host", "es"}},
       400,
       "absolute-form request target does not match the [Host] header",
       ""},
      {"absolute-form other port",
       "GET",
       "http://es:1/x",
       11,
       {{"Host", "es:2"}},
       400,
       nullptr,
       ""},
      {"absolute-form default port is not elided",
       "GET",
       "http://es:80/x",
       11,
       {{"Host", "es"}},
       400,
       nullptr,
       ""},
      {"absolute-form empty host field",
       "GET",
       "http://es/x",
       11,
       {{"Host", ""}},
       400,
       nullptr,
       ""},
      {"absolute-form userinfo",
       "GET",
       "http://u@es/x",
       11,
       {{"Host", "es"}},
       400,
       "invalid authority in absolute-form request target",
       ""},
      {"absolute-form empty authority", "GET", "http:///x", 11, {{"Host", ""}}, 400, nullptr, ""},
      {"scheme without // left to the session",
       "GET",
       "http:/x",
       11,
       {{"Host", "es"}},
       0,
       nullptr,
       ""},
      {"absolute-form ftp",
       "GET",
       "ftp://es/x",
       11,
       {{"Host", "es"}},
       400,
       "absolute-form request target must use http or https",
       ""},
      {"absolute-form fragment", "GET", "http://es#x", 11, {{"Host", "es"}}, 400, nullptr, ""},
      {"origin-form fragment",
       "GET",
       "/books/_doc/1#x",
       11,
       {{"Host", "es"}},
       400,
       "request target must not contain a fragment",
       ""},
      {"absolute-form bad authority",
       "GET",
       "http://e%zz/x",
       11,
       {{"Host", "e%zz"}},
       400,
       nullptr,
       ""},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto f = make_fields(c.fields);
      auto v = http::check_request_head(c.method, c.target, c.version, f);
      if (c.status == 0) {
        CHECK_FALSE(v.problem.has_value());
        if (v.problem) UNSCOPED_INFO("unexpected: " << v.problem->reason);
        CHECK(v.origin_form == c.origin);
      } else {
        REQUIRE(v.problem.has_value());
        CHECK(v.problem->status == c.status);
        if (c.reason) CHECK(v.problem->reason == c.reason);
      }
    }
  }
}

TEST_CASE("raw_head_problem table", "[request_head]") {
  struct raw_case {
    const char* name;
    std::string head;
    const char* expected;  // nullptr = accepted
  };
  const char* fold = "obsolete line folding (obs-fold) is not allowed in request headers";
  const char* lf = "request line or header line ends in a bare LF";
  const char* cr = "request line or header line ends in a bare CR";
  const std::vector<raw_case> cases = {
      {"plain", "GET / HTTP/1.1\r\nHost: es\r\n\r\n", nullptr},
      {"no fields", "GET / HTTP/1.0\r\n\r\n", nullptr},
      {"tab inside a value", "GET / HTTP/1.1\r\nX: a\tb\r\n\r\n", nullptr},
      {"obs-text", "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", nullptr},
      {"obs-fold space", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", fold},
      {"obs-fold tab", "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", fold},
      {"obs-fold of transfer-encoding", "GET / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n",
       fold},
      {"bare lf after request line", "GET / HTTP/1.1\nHost: es\r\n\r\n", lf},
      {"bare lf after a field", "GET / HTTP/1.1\r\nHost: es\n\r\n", lf},
      {"bare lf blank line", "GET / HTTP/1.1\r\nHost: es\r\n\n", lf},
      {"bare cr after request line", "GET / HTTP/1.1\rHost: es\r\n\r\n", cr},
      {"bare cr inside a value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", cr},
      {"bare cr at the very end", "GET / HTTP/1.1\r\nX: a\r\n\r", cr},
      {"lf cr", "GET / HTTP/1.1\n\r\n", lf},
      {"nul in target", std::string("GET /\0 HTTP/1.1\r\n\r\n", 20),
       "NUL character in the request head"},
      {"nul in value", std::string("GET / HTTP/1.1\r\nX: \0\r\n\r\n", 24),
       "NUL character in the request head"},
  };
  for (const auto& c : cases) {
    SECTION(c.name) {
      auto problem = http::raw_head_problem(c.head);
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
