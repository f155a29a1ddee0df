// ES-shaped error bodies and headers: the official clients pick the exception class by status and
// read error.type / error.root_cause, so the shape must match Elasticsearch exactly.
#include "esgate/http/es_error.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace http = esgate::http;
namespace json = boost::json;

namespace {

std::vector<std::string> header_values(const http::gateway_response& r, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : r.headers)
    if (n == name) out.push_back(v);
  return out;
}

json::object parse_body(const http::gateway_response& r) {
  json::value v = json::parse(r.body);
  REQUIRE(v.is_object());
  return v.as_object();
}

// Checks the common shape and returns error{}.
const json::object& check_shape(const json::object& body, int status, std::string_view type,
                                std::string_view reason) {
  REQUIRE(body.size() == 2);
  REQUIRE(body.at("status").as_int64() == status);
  const auto& error = body.at("error").as_object();
  CHECK(error.at("type").as_string() == type);
  CHECK(error.at("reason").as_string() == reason);
  const auto& rc = error.at("root_cause").as_array();
  REQUIRE(rc.size() == 1);
  const auto& cause = rc[0].as_object();
  CHECK(cause.at("type").as_string() == type);
  CHECK(cause.at("reason").as_string() == reason);
  // root_cause[0] carries the same members as error, minus root_cause itself.
  CHECK(cause.size() + 1 == error.size());
  for (const auto& kv : cause) {
    REQUIRE(error.contains(kv.key()));
    CHECK(error.at(kv.key()) == kv.value());
  }
  CHECK_FALSE(cause.contains("root_cause"));
  return error;
}

}  // namespace

TEST_CASE("es_error builds the Elasticsearch error shape", "[es_error]") {
  auto r = http::es_error(404, "index_not_found_exception", "no such index [books]",
                          {{"index", "books"}, {"resource.type", "index_or_alias"}});
  CHECK(r.status == 404);
  CHECK_FALSE(r.close);
  CHECK(header_values(r, "X-Elastic-Product") == std::vector<std::string>{"Elasticsearch"});
  CHECK(header_values(r, "Content-Type") == std::vector<std::string>{"application/json"});
  CHECK(header_values(r, "WWW-Authenticate").empty());

  auto body = parse_body(r);
  const auto& error = check_shape(body, 404, "index_not_found_exception", "no such index [books]");
  CHECK(error.at("index").as_string() == "books");
  CHECK(error.at("resource.type").as_string() == "index_or_alias");
  // Elasticsearch prints root_cause first; some tooling diff-matches the text.
  CHECK(r.body.rfind(R"({"error":{"root_cause":[{"type":"index_not_found_exception")", 0) == 0);
}

TEST_CASE("es_error escapes reason and extras as JSON", "[es_error]") {
  const std::string nasty = "quote \" backslash \\ newline \n ctl \x01 utf8 \xc3\xa9 </script>";
  auto r = http::es_error(400, "parse_exception", nasty, {{"k\"ey", nasty}});
  auto body = parse_body(r);  // throws if the escaping broke the JSON
  const auto& error = check_shape(body, 400, "parse_exception", nasty);
  CHECK(error.at("k\"ey").as_string() == nasty);
  CHECK(r.body.find('\n') == std::string::npos);
}

// A reason may quote client bytes (issue 10: "unsupported Transfer-Encoding [chunked\xff]"): the
// body must stay valid UTF-8 JSON, so malformed sequences become U+FFFD and valid ones stay.
TEST_CASE("es_error keeps the body valid UTF-8 whatever the reason quotes", "[es_error]") {
  auto r = http::es_error(400, "illegal_argument_exception", "te [chunked\xff] caf\xc3\xa9 \xc3",
                          {{"x", "\xed\xa0\x80"}});
  CHECK(r.body.find("\xff") == std::string::npos);
  auto body = parse_body(r);  // Boost.JSON's parser validates UTF-8
  const auto& err = body.at("error").as_object();
  CHECK(err.at("reason") == "te [chunked\xef\xbf\xbd] caf\xc3\xa9 \xef\xbf\xbd");
  CHECK(err.at("x") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("es_error without extras has exactly type, reason and root_cause", "[es_error]") {
  auto r = http::es_error(500, "exception", "boom");
  auto body = parse_body(r);
  const auto& error = check_shape(body, 500, "exception", "boom");
  CHECK(error.size() == 3);
  CHECK(r.body ==
        R"({"error":{"root_cause":[{"type":"exception","reason":"boom"}],"type":"exception",)"
        R"("reason":"boom"},"status":500})");
}

TEST_CASE("unauthenticated is a 401 with both WWW-Authenticate challenges", "[es_error]") {
  auto r = http::unauthenticated("unable to authenticate user [bob] for REST request [/]");
  CHECK(r.status == 401);
  CHECK(header_values(r, "WWW-Authenticate") ==
        std::vector<std::string>{R"(Basic realm="security", charset="UTF-8")", "ApiKey"});
  CHECK(header_values(r, "X-Elastic-Product") == std::vector<std::string>{"Elasticsearch"});
  CHECK(header_values(r, "Content-Type") == std::vector<std::string>{"application/json"});

  auto body = parse_body(r);
  const auto& error = check_shape(body, 401, "security_exception",
                                  "unable to authenticate user [bob] for REST request [/]");
  const auto& challenges = error.at("header").as_object().at("WWW-Authenticate").as_array();
  REQUIRE(challenges.size() == 2);
  CHECK(challenges[0].as_string() == R"(Basic realm="security", charset="UTF-8")");
  CHECK(challenges[1].as_string() == "ApiKey");
  // Also present in root_cause[0], as Elasticsearch does.
  const auto& cause = error.at("root_cause").as_array()[0].as_object();
  CHECK(cause.at("header") == error.at("header"));
}

TEST_CASE("forbidden is a 403 security_exception without challenges", "[es_error]") {
  auto r = http::forbidden("action [indices:data/read/search] is unauthorized for user [bob]");
  CHECK(r.status == 403);
  CHECK(header_values(r, "WWW-Authenticate").empty());
  auto body = parse_body(r);
  const auto& error =
      check_shape(body, 403, "security_exception",
                  "action [indices:data/read/search] is unauthorized for user [bob]");
  CHECK_FALSE(error.contains("header"));
}

TEST_CASE("missing_credentials_reason quotes the whole target", "[es_error]") {
  CHECK(http::missing_credentials_reason("/_search?q=a%20b&size=1") ==
        "missing authentication credentials for REST request [/_search?q=a%20b&size=1]");
  CHECK(http::missing_credentials_reason("") ==
        "missing authentication credentials for REST request []");
}

TEST_CASE("add_standard_headers appends product and content type", "[es_error]") {
  http::gateway_response r;
  r.headers.emplace_back("X-Opaque-Id", "abc");
  http::add_standard_headers(r);
  REQUIRE(r.headers.size() == 3);
  CHECK(r.headers[0] == std::pair<std::string, std::string>{"X-Opaque-Id", "abc"});
  CHECK(r.headers[1] == std::pair<std::string, std::string>{"X-Elastic-Product", "Elasticsearch"});
  CHECK(r.headers[2] == std::pair<std::string, std::string>{"Content-Type", "application/json"});
}
