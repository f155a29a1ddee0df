// The security API's body parsers alone (security_api_bodies.hpp), with the nasty inputs
// fuzz_security_bodies starts from: every refusal is a 400 in Elasticsearch's words.
#include <catch2/catch.hpp>

#include "security_api_bodies.hpp"

using namespace esgate::admin::detail;

namespace {

enum class ep { create, update, bulk, invalidate, query, privileges };

std::optional<api_error> error_of(ep e, std::string_view body) {
  auto pick = [](const auto& v) -> std::optional<api_error> {
    if (const auto* err = std::get_if<api_error>(&v)) return *err;
    return std::nullopt;
  };
  switch (e) {
    case ep::create:
      return pick(parse_create_body(body));
    case ep::update:
      return pick(parse_update_body(body));
    case ep::bulk:
      return pick(parse_bulk_update_body(body));
    case ep::invalidate:
      return pick(parse_invalidate_body(body));
    case ep::query:
      return pick(parse_query_body(body, 1'700'000'000'000));
    case ep::privileges:
      return pick(parse_has_privileges_body(body, "alice"));
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE("security API bodies: nasty input, each a 400 in ES's words", "[admin][pure]") {
  struct row {
    ep e;
    std::string body;
    const char* type;    // nullptr: accepted
    const char* reason;  // a part of the reason
  };
  const std::string deep = std::string(70, '[') + std::string(70, ']');
  const row rows[] = {
      // Framing and JSON, the same for every endpoint.
      {ep::create, "", "parse_exception", "request body is required"},
      {ep::create, " \r\n\t", "parse_exception", "request body is required"},
      {ep::update, "", nullptr, nullptr},  // an empty update changes nothing
      {ep::query, "", nullptr, nullptr},   // match_all
      {ep::bulk, "", "parse_exception", "request body is required"},
      {ep::invalidate, "", "parse_exception", "request body is required"},
      {ep::privileges, "", "parse_exception", "request body is required"},
      {ep::create, "{\"name\":\"a\"", "x_content_parse_exception", "failed to parse"},
      {ep::create, "{\"name\":\"a\"} {}", "x_content_parse_exception", "failed to parse"},
      {ep::create, "{\"name\":\"\xff\"}", "x_content_parse_exception", "failed to parse"},
      {ep::create, "{\"name\":\"\\ud800\"}", "x_content_parse_exception", "failed to parse"},
      {ep::create, std::string("{\"name\":\"a\0b\"}", 14), "x_content_parse_exception",
       "failed to parse"},
      {ep::query, "{\"query\":" + deep + "}", "x_content_parse_exception",
       "nested more than 64 levels deep"},
      {ep::create, R"({"name":"a","name":"b"})", "x_content_parse_exception",
       "Duplicate field 'name'"},
      {ep::invalidate, R"({"ids":["a"],"owner":true,"ids":["b"]})", "x_content_parse_exception",
       "Duplicate field 'ids'"},
      {ep::create, "[]", "x_content_parse_exception",
       "[api_key_request] Expected START_OBJECT but was: START_ARRAY"},
      {ep::update, "null", "x_content_parse_exception",
       "[update_api_key_request_payload] Expected START_OBJECT but was: VALUE_NULL"},
      {ep::invalidate, "\"ids\"", "x_content_parse_exception",
       "[invalidate_api_key_request] Expected START_OBJECT but was: VALUE_STRING"},
      {ep::privileges, "7", "parse_exception", "expected an object but found [VALUE_NUMBER]"},
      // Create / update / bulk update.
      {ep::create, "{}", "action_request_validation_exception", "api key name is required"},
      {ep::create, R"({"name":123})", "x_content_parse_exception",
       "name doesn't support values of type: VALUE_NUMBER"},
      {ep::create, R"({"name":"a","expiration":9223372036854775807})", "x_content_parse_exception",
       "expiration doesn't support values of type: VALUE_NUMBER"},
      {ep::create, R"({"name":"a","expiration":"9223372036854775807d"})",
       "illegal_argument_exception", "failed to parse [9223372036854775807d]"},
      {ep::create, R"({"name":"a","expiration":"-9223372036854775808ms"})",
       "illegal_argument_exception", "negative durations are not supported"},
      {ep::create, R"({"name":"a","metadata":[]})", "x_content_parse_exception",
       "metadata doesn't support values of type: START_ARRAY"},
      {ep::create, R"({"name":"a","metadata":{"_x":1}})", "action_request_validation_exception",
       "API key metadata keys may not start with [_]"},
      {ep::create, R"({"name":"a","role_descriptors":[]})", "x_content_parse_exception", ""},
      {ep::create, R"({"name":"a","ids":["x"]})", "x_content_parse_exception",
       "[api_key_request] unknown field [ids]"},
      {ep::update, R"({"name":"a"})", "x_content_parse_exception",
       "[update_api_key_request_payload] unknown field [name]"},
      {ep::bulk, R"({"ids":[]})", "action_request_validation_exception",
       "Field [ids] cannot be empty"},
      {ep::bulk, R"({"ids":[1]})", "x_content_parse_exception",
       "ids doesn't support values of type: VALUE_NUMBER"},
      {ep::bulk, R"({"ids":"one"})", nullptr, nullptr},
      // Invalidate.
      {ep::invalidate, "{}", "action_request_validation_exception",
       "One of [api key id(s), api key name, username, realm name] must be specified"},
      {ep::invalidate, R"({"id":"a","ids":["b"]})", "illegal_argument_exception",
       "Must use either [id] or [ids], not both at the same time"},
      {ep::invalidate, R"({"ids":[]})", "action_request_validation_exception",
       "Field [ids] cannot be an empty array"},
      {ep::invalidate, R"({"ids":["a"," ",""]})", "action_request_validation_exception",
       "blank ids at index positions: [1, 2]"},
      {ep::invalidate, R"({"owner":"true"})", "x_content_parse_exception",
       "owner doesn't support values of type: VALUE_STRING"},
      {ep::invalidate, R"({"owner":true,"username":"bob"})", "action_request_validation_exception",
       "neither username nor realm-name may be specified"},
      {ep::invalidate, R"({"ids":null,"name":null,"owner":true})", nullptr, nullptr},
      // Query: int64 limits (the from + size overflow the fuzzer found).
      {ep::query, R"({"from":9223372036854775807,"size":1})", "illegal_argument_exception",
       "but was [9223372036854775808]"},
      {ep::query, R"({"size":18446744073709551615})", "x_content_parse_exception",
       "size doesn't support values of type: VALUE_NUMBER"},
      {ep::query, R"({"size":1e3})", "x_content_parse_exception",
       "size doesn't support values of type: VALUE_NUMBER"},
      {ep::query, R"({"query":{"range":{"creation":{"gte":"9223372036854775807||+1d"}}}})",
       "parse_exception", "failed to parse date field"},
      {ep::query, R"({"query":{"term":{"creation":"-9223372036854775808||/M"}}})",
       "parse_exception", "failed to parse date field"},
      {ep::query, R"({"query":{"range":{"creation":{"gte":9223372036854775807}}}})", nullptr,
       nullptr},
      // has_privileges.
      {ep::privileges, "{}", "action_request_validation_exception",
       "must specify at least one privilege"},
      {ep::privileges, R"({"cluster":"all"})", "parse_exception",
       "expected field [cluster] value to be an array of strings"},
      {ep::privileges, R"({"index":[{"names":["a"]}]})", "parse_exception",
       "missing required [privileges] field"},
      {ep::privileges, R"({"index":[{"names":"a","privileges":["read"]}]})", nullptr, nullptr},
      {ep::privileges, R"({"cluster":["fly"]})", "illegal_argument_exception", "fly"},
  };
  for (const auto& r : rows) {
    INFO(r.body);
    auto e = error_of(r.e, r.body);
    if (!r.type) {
      CHECK_FALSE(e.has_value());
      if (e) INFO(e->type << ": " << e->reason);
      continue;
    }
    REQUIRE(e.has_value());
    CHECK(e->status == 400);
    CHECK(e->type == r.type);
    CHECK_THAT(e->reason, Catch::Contains(r.reason));
  }
}

TEST_CASE("security API bodies: what a parse keeps", "[admin][pure]") {
  auto c = parse_create_body(
      R"({"name":"ci","expiration":"1500000micros","metadata":{"team":"red"},"role_descriptors":{"r":{"indices":[{"names":["books"],"privileges":["read"]}]}}})");
  REQUIRE(std::holds_alternative<key_fields>(c));
  const auto& f = std::get<key_fields>(c);
  CHECK(f.name == "ci");
  CHECK(f.expiration_ms == 1500);
  CHECK(f.metadata == boost::json::object{{"team", "red"}});
  REQUIRE(f.role_descriptors);
  REQUIRE(f.role_descriptors->size() == 1);
  CHECK((*f.role_descriptors)[0].indices.at(0).names == std::vector<std::string>{"books"});

  auto inv = parse_invalidate_body(R"({"id":"AAAAAAAAAAAAAAAAAAAA"})");
  REQUIRE(std::holds_alternative<invalidate_body>(inv));
  CHECK(std::get<invalidate_body>(inv).ids == std::vector<std::string>{"AAAAAAAAAAAAAAAAAAAA"});
}
