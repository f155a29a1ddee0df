#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "esgate/policy/role_descriptor.hpp"

using namespace esgate::policy;

namespace {

role_descriptors_result parse(const char* json) {
  return parse_role_descriptors_json(boost::json::parse(json));
}

}  // namespace

TEST_CASE("API key role_descriptors parse, in request order") {
  const auto r = parse(R"({
    "zeta": {"cluster": ["monitor"], "indices": [{"names": ["logs-*"], "privileges": ["read"]}]},
    "alpha": {"index": [{"names": "books", "privileges": ["read", "view_index_metadata"],
                         "allow_restricted_indices": true}],
              "metadata": {"team": "a"}, "transient_metadata": {"enabled": true},
              "applications": [], "run_as": [], "remote_indices": [], "global": {}}
  })");
  REQUIRE(r.ok());
  REQUIRE(r.roles.size() == 2);
  CHECK(r.roles[0].name == "zeta");
  CHECK(r.roles[1].name == "alpha");
  CHECK(r.roles[1].indices[0].names == std::vector<std::string>{"books"});
  CHECK(r.roles[1].indices[0].allow_restricted_indices);
  CHECK(r.roles[1].metadata.at("team").as_string() == "a");
}

TEST_CASE("null or empty role_descriptors mean no descriptors") {
  CHECK(parse("null").ok());
  CHECK(parse("{}").roles.empty());
  const auto r = parse(R"({"noaccess": {}})");  // the ES idiom for a key with no privileges
  REQUIRE(r.ok());
  REQUIRE(r.roles.size() == 1);
  CHECK(r.roles[0].cluster.empty());
  CHECK(r.roles[0].indices.empty());
}

TEST_CASE("role_descriptors errors have ES types and wording") {
  struct c {
    const char* json;
    const char* type;
    const char* reason;  // prefix or exact
  };
  const c cases[] = {
      {R"([])", "x_content_parse_exception",
       "failed to parse field [role_descriptors]. expected an object but found [START_ARRAY]"},
      {R"({"r": []})", "x_content_parse_exception",
       "failed to parse role [r]. expected an object but found [START_ARRAY] instead"},
      {R"({"r": {"clusterr": []}})", "x_content_parse_exception",
       "failed to parse role [r]. unexpected field [clusterr]"},
      {R"({"r": {"description": "x"}})", "x_content_parse_exception",
       "failed to parse role [r]. unexpected field [description]"},
      {R"({"r": {"cluster": "monitor"}})", "x_content_parse_exception",
       "failed to parse role [r]. could not parse [cluster] field. expected a string array but "
       "found [VALUE_STRING] value instead"},
      {R"({"r": {"cluster": [1]}})", "x_content_parse_exception",
       "failed to parse role [r]. could not parse [cluster] field. expected a string array but one "
       "of the value in the array is [VALUE_NUMBER]"},
      {R"({"r": {"indices": {}}})", "x_content_parse_exception",
       "failed to parse indices privileges for role [r]. expected field [indices] value to be an "
       "array, but found [START_OBJECT] instead"},
      {R"({"r": {"indices": [{"privileges": ["read"]}]}})", "x_content_parse_exception",
       "failed to parse indices privileges for role [r]. missing required [names] field"},
      {R"({"r": {"indices": [{"names": "a"}]}})", "x_content_parse_exception",
       "failed to parse indices privileges for role [r]. missing required [privileges] field"},
      {R"({"r": {"indices": [{"names": 5, "privileges": ["read"]}]}})", "x_content_parse_exception",
       "failed to parse indices privileges for role [r]. expected field [names] value to be a "
       "string or an array of strings, but found [VALUE_NUMBER] instead"},
      {R"({"r": {"indices": [{"names": "a", "privileges": ["read"], "allow_restricted_indices": "yes"}]}})",
       "x_content_parse_exception",
       "failed to parse indices privileges for role [r]. expected field [allow_restricted_indices] "
       "value to be a boolean, but found [VALUE_STRING] instead"},
      {R"({"r": {"indices": [{"names": "a", "privileges": ["read"], "colour": 1}]}})",
       "x_content_parse_exception",
       "failed to parse indices privileges for role [r]. unexpected field [colour]"},
      {R"({"r": {"metadata": []}})", "x_content_parse_exception",
       "failed to parse role [r]. expected field [metadata] value to be an object"},
      {R"({"r": {"indices": [{"names": "a", "privileges": ["read"], "query": {"match_all": {}}}]}})",
       "illegal_argument_exception",
       "document level security ([query]) in role [r] is not supported yet"},
      {R"({"r": {"indices": [{"names": "a", "privileges": ["read"], "field_security": {"grant": ["a"]}}]}})",
       "illegal_argument_exception",
       "field level security ([field_security]) in role [r] is not supported yet"},
      {R"({"r": {"run_as": ["bob"]}})", "illegal_argument_exception",
       "[run_as] in role [r] is not supported yet"},
      {R"({"r": {"applications": [{"application": "a", "privileges": ["x"], "resources": ["*"]}]}})",
       "illegal_argument_exception", "[applications] in role [r] is not supported yet"},
      {R"({"r": {"restriction": {"workflows": ["search_application_query"]}}})",
       "illegal_argument_exception", "[restriction] in role [r] is not supported yet"},
      {R"({"r": {"cluster": ["x"]}})", "action_request_validation_exception",
       "Validation Failed: 1: unknown cluster privilege [x]. a privilege must be either one of the "
       "predefined cluster privilege names ["},
      {R"({"r": {"indices": [{"names": "a", "privileges": ["reed"]}]}})",
       "action_request_validation_exception",
       "Validation Failed: 1: unknown index privilege [reed]. a privilege must be either one of "
       "the "
       "predefined fixed indices privileges ["},
      {R"({"r": {"indices": [{"names": ["/a"], "privileges": ["read"]}]}})",
       "action_request_validation_exception", "Validation Failed: 1: invalid pattern [/a]."},
      {R"({"r": {"indices": [{"names": [], "privileges": ["read"]}]}})",
       "action_request_validation_exception",
       "Validation Failed: 1: indices privileges must refer to at least one index name or index "
       "name pattern;"},
      {R"({"r": {"indices": [{"names": ["a"], "privileges": []}]}})",
       "action_request_validation_exception",
       "Validation Failed: 1: indices privileges must define at least one privilege;"},
      {R"({"r": {"metadata": {"_x": 1}}})", "action_request_validation_exception",
       "Validation Failed: 1: role descriptor metadata keys may not start with '_';"},
  };
  for (const auto& x : cases) {
    INFO(x.json);
    const auto r = parse(x.json);
    REQUIRE_FALSE(r.ok());
    CHECK(r.roles.empty());
    CHECK(r.error->type == x.type);
    CHECK_THAT(r.error->reason, Catch::StartsWith(x.reason));
  }
}

TEST_CASE("validation errors are all collected and numbered") {
  const auto r = parse(R"({"a": {"cluster": ["x", "monitor"]},
                          "b": {"indices": [{"names": "i", "privileges": ["y"]}]}})");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error->type == "action_request_validation_exception");
  CHECK_THAT(r.error->reason,
             Catch::StartsWith("Validation Failed: 1: unknown cluster privilege [x]"));
  CHECK_THAT(r.error->reason, Catch::Contains(";2: unknown index privilege [y]"));
  CHECK_THAT(r.error->reason, Catch::EndsWith(";"));
}

TEST_CASE("to_json prints ES's full form") {
  role_descriptor d;
  d.name = "r";
  d.cluster = {"monitor"};
  d.indices.push_back({{"logs-*"}, {"read"}, false});
  const auto j = to_json(d);
  CHECK(boost::json::serialize(j) ==
        R"({"cluster":["monitor"],"indices":[{"names":["logs-*"],"privileges":["read"],)"
        R"("allow_restricted_indices":false}],"applications":[],"run_as":[],"metadata":{},)"
        R"("transient_metadata":{"enabled":true}})");
  role_descriptor e;
  e.name = "empty";
  CHECK(boost::json::serialize(to_json(std::vector<role_descriptor>{d, e}))
            .starts_with(R"({"r":{"cluster":["monitor"])"));
  CHECK(boost::json::serialize(to_json(e)) ==
        R"({"cluster":[],"indices":[],"applications":[],"run_as":[],"metadata":{},)"
        R"("transient_metadata":{"enabled":true}})");
}

TEST_CASE("to_json output parses back to the same descriptors") {
  const auto first = parse(R"({"r": {"cluster": ["monitor", "manage_own_api_key"],
      "indices": [{"names": ["a", "/b[0-9]/"], "privileges": ["read"], "allow_restricted_indices": true}],
      "metadata": {"k": [1, 2]}}})");
  REQUIRE(first.ok());
  const auto again = parse_role_descriptors_json(to_json(first.roles));
  REQUIRE(again.ok());
  REQUIRE(again.roles.size() == 1);
  CHECK(again.roles[0].cluster == first.roles[0].cluster);
  CHECK(again.roles[0].indices[0].names == first.roles[0].indices[0].names);
  CHECK(again.roles[0].indices[0].allow_restricted_indices);
  CHECK(again.roles[0].metadata == first.roles[0].metadata);
}

TEST_CASE("superuser descriptor") {
  const auto s = superuser_descriptor();
  CHECK(s.name == "superuser");
  CHECK(s.cluster == std::vector<std::string>{"all"});
  REQUIRE(s.indices.size() == 1);
  CHECK(s.indices[0].names == std::vector<std::string>{"*"});
  CHECK(s.indices[0].privileges == std::vector<std::string>{"all"});
  CHECK(s.indices[0].allow_restricted_indices);
}
