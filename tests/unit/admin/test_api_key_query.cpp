// The query API's DSL over in-memory records: one line per case.
#include <catch2/catch.hpp>

#include "api_key_query.hpp"

using namespace esgate::admin::detail;
using esgate::keystore::key_record;
namespace json = boost::json;

namespace {

constexpr std::int64_t now = 1'700'000'000'000;
constexpr std::int64_t day = 86'400'000;

key_record rec(std::string id, std::string name, std::string user, std::int64_t creation,
               std::optional<std::int64_t> expiration, bool invalidated, std::string metadata) {
  key_record r;
  r.id = std::move(id);
  r.name = std::move(name);
  r.username = std::move(user);
  r.creation = creation;
  r.expiration = expiration;
  r.invalidated = invalidated;
  if (invalidated) r.invalidation = creation + day;
  r.metadata = json::parse(metadata).as_object();
  r.api_key_hash = "{SSHA256}x";
  return r;
}

// k0..k4 in _doc order.
std::vector<key_record> records() {
  return {
      rec("k0", "web-prod", "alice", now - 10 * day, now + day, false,
          R"({"env":"prod","team":{"name":"web"},"tags":["a","b"],"level":3})"),
      rec("k1", "web-dev", "alice", now - 8 * day, std::nullopt, false,
          R"({"env":"dev","team":{"name":"web"}})"),
      rec("k2", "Batch", "bob", now - 6 * day, now - day, false, R"({"env":"prod","flag":true})"),
      rec("k3", "batch-old", "bob", now - 4 * day, std::nullopt, true, R"({})"),
      rec("k4", "ops", "carol", now - 2 * day, now + 30 * day, false, R"({"team.name":"ops"})"),
  };
}

std::vector<std::string> run(const std::string& query) {
  auto q = parse_query(json::parse(query), now);
  if (auto* e = std::get_if<api_error>(&q)) FAIL(e->reason);
  std::vector<std::string> out;
  for (const auto& r : records())
    if (matches(*std::get<std::shared_ptr<const query_node>>(q), r)) out.push_back(r.id);
  return out;
}

using ids = std::vector<std::string>;

}  // namespace

TEST_CASE("query: each query type over the fixture keys", "[admin][query]") {
  struct row {
    const char* query;
    ids expected;
  };
  const row rows[] = {
      {R"({"match_all":{}})", {"k0", "k1", "k2", "k3", "k4"}},
      {R"({"ids":{"values":["k1","k4","nope"]}})", {"k1", "k4"}},
      {R"({"term":{"username":"alice"}})", {"k0", "k1"}},
      {R"({"term":{"username":{"value":"ALICE","case_insensitive":true}}})", {"k0", "k1"}},
      {R"({"term":{"username":"ALICE"}})", {}},
      {R"({"term":{"realm_name":"default_file"}})", {"k0", "k1", "k2", "k3", "k4"}},
      {R"({"term":{"realm":"default_file"}})", {"k0", "k1", "k2", "k3", "k4"}},
      {R"({"term":{"type":"rest"}})", {"k0", "k1", "k2", "k3", "k4"}},
      {R"({"terms":{"name":["ops","Batch"]}})", {"k2", "k4"}},
      {R"({"prefix":{"name":"web-"}})", {"k0", "k1"}},
      {R"({"prefix":{"name":{"value":"batch","case_insensitive":true}}})", {"k2", "k3"}},
      {R"({"wildcard":{"name":"*-*"}})", {"k0", "k1", "k3"}},
      {R"({"wildcard":{"name":{"value":"b?tch*","case_insensitive":true}}})", {"k2", "k3"}},
      {R"({"wildcard":{"name":{"wildcard":"o\\*s"}}})", {}},
      {R"({"match":{"name":"ops"}})", {"k4"}},
      {R"({"match":{"name":{"query":"web-dev"}}})", {"k1"}},
      {R"({"term":{"invalidated":true}})", {"k3"}},
      {R"({"term":{"invalidated":"false"}})", {"k0", "k1", "k2", "k4"}},
      {R"({"exists":{"field":"expiration"}})", {"k0", "k2", "k4"}},
      {R"({"exists":{"field":"invalidation"}})", {"k3"}},
      {R"({"exists":{"field":"metadata.team.name"}})", {"k0", "k1", "k4"}},
      {R"({"exists":{"field":"metadata"}})", {"k0", "k1", "k2", "k4"}},
      {R"({"range":{"creation":{"gte":"now-7d"}}})", {"k2", "k3", "k4"}},
      {R"({"range":{"creation":{"gt":"now-10d","lt":"now-4d"}}})", {"k1", "k2"}},
      {R"({"range":{"expiration":{"lte":"now"}}})", {"k2"}},
      {R"({"range":{"expiration":{"gte":1700000000000}}})", {"k0", "k4"}},
      {R"({"range":{"name":{"gte":"b","lt":"p"}}})", {"k3", "k4"}},
      {R"({"term":{"metadata.env":"prod"}})", {"k0", "k2"}},
      {R"({"term":{"metadata.tags":"b"}})", {"k0"}},
      {R"({"term":{"metadata.level":3}})", {"k0"}},
      {R"({"term":{"metadata.level":"3"}})", {"k0"}},
      {R"({"term":{"metadata.flag":"true"}})", {"k2"}},
      {R"({"term":{"metadata":"web"}})", {"k0", "k1"}},
      {R"({"term":{"metadata.team.name":"ops"}})", {"k4"}},  // dotted key == nested path
      {R"({"bool":{"must":[{"term":{"username":"alice"}}],"must_not":{"term":{"metadata.env":"dev"}}}})",
       {"k0"}},
      {R"({"bool":{"should":[{"term":{"name":"ops"}},{"term":{"name":"Batch"}}]}})", {"k2", "k4"}},
      {R"({"bool":{"filter":{"term":{"invalidated":false}},"should":[{"term":{"name":"ops"}}]}})",
       {"k0", "k1", "k2", "k4"}},
      {R"({"bool":{"filter":{"term":{"invalidated":false}},"should":[{"term":{"name":"ops"}}],"minimum_should_match":1}})",
       {"k4"}},
      {R"({"bool":{"should":[{"term":{"username":"alice"}},{"term":{"metadata.env":"prod"}},{"exists":{"field":"expiration"}}],"minimum_should_match":2}})",
       {"k0", "k2"}},
      {R"({"bool":{"should":[{"term":{"username":"alice"}},{"term":{"metadata.env":"prod"}}],"minimum_should_match":"100%"}})",
       {"k0"}},
      {R"({"bool":{"should":[{"term":{"username":"alice"}},{"term":{"metadata.env":"prod"}}],"minimum_should_match":-1}})",
       {"k0", "k1", "k2"}},
      {R"({"bool":{"must_not":[{"exists":{"field":"expiration"}}]}})", {"k1", "k3"}},
      {R"({"bool":{}})", {"k0", "k1", "k2", "k3", "k4"}},
  };
  for (const auto& r : rows) {
    INFO(r.query);
    CHECK(run(r.query) == r.expected);
  }
}

TEST_CASE("query: refused queries in Elasticsearch's words", "[admin][query]") {
  struct row {
    const char* body;
    const char* type;
    const char* reason;
  };
  const row rows[] = {
      {R"({"query":{"nested":{"path":"x"}}})", "illegal_argument_exception",
       "Query type [nested] is not supported for API Key query"},
      {R"({"query":{"simple_query_string":{"query":"x"}}})", "illegal_argument_exception",
       "Query type [simple_query_string] is not supported for API Key query"},
      {R"({"query":{"term":{"api_key_hash":"x"}}})", "illegal_argument_exception",
       "Field [api_key_hash] is not allowed for API Key query or aggregation"},
      {R"({"query":{"term":{"id":"x"}}})", "illegal_argument_exception",
       "Field [id] is not allowed for API Key query or aggregation"},
      {R"({"query":{"term":{"user*":"x"}}})", "illegal_argument_exception",
       "Field name pattern [user*] is not allowed for API Key query or aggregation"},
      {R"({"query":{"terms":{"name":{"index":"i","id":"1","path":"p"}}}})",
       "illegal_argument_exception",
       "terms query with terms lookup is not supported for API Key query"},
      {R"({"query":{"range":{"creation":{"gte":1,"relation":"within"}}}})",
       "illegal_argument_exception",
       "range query with relation is not supported for API Key query"},
      {R"({"query":{"term":{"name":"a","username":"b"}}})", "parsing_exception",
       "[term] query doesn't support multiple fields, found [name] and [username]"},
      {R"({"query":{"term":{"name":{"valu":"a"}}}})", "parsing_exception",
       "[term] query does not support [valu]"},
      {R"({"query":{"term":{"creation":"yesterday"}}})", "parse_exception",
       "failed to parse date field [yesterday] with format "
       "[strict_date_optional_time||epoch_millis]"},
      {R"({"query":{"prefix":{"creation":"1"}}})", "query_shard_exception",
       "Can only use prefix queries on keyword and text fields - not on [creation] which is of "
       "type [date]"},
      {R"({"query":{"term":{"invalidated":"maybe"}}})", "illegal_argument_exception",
       "Can't parse boolean value [maybe], expected [true] or [false]"},
      {R"({"query":{}})", "parsing_exception", "query malformed, empty clause found"},
      {R"({"sort":[{"name":{"nested":{"path":"x"}}}]})", "illegal_argument_exception",
       "nested sorting is not supported for API Key query"},
      {R"({"sort":["id"]})", "illegal_argument_exception",
       "Field [id] is not allowed for API Key query or aggregation"},
      {R"({"sort":[{"name":"up"}]})", "illegal_argument_exception", "Unknown SortOrder [up]"},
      {R"({"aggs":{},"aggregations":{}})", "illegal_argument_exception",
       "Duplicate 'aggs' or 'aggregations' field"},
      {R"({"from":-1})", "illegal_argument_exception",
       "[from] parameter cannot be negative but was [-1]"},
      {R"({"size":-5})", "illegal_argument_exception",
       "[size] parameter cannot be negative but was [-5]"},
      {R"({"from":9995,"size":10})", "illegal_argument_exception",
       "Result window is too large, from + size must be less than or equal to: [10000] but was "
       "[10005]. See the scroll api for a more efficient way to request large data sets. This "
       "limit can be set by changing the [index.max_result_window] index level setting."},
      // Found by fuzz_security_bodies: from + size overflowed int64 (UB) before the check.
      {R"({"from":9223372036854775807,"size":1})", "illegal_argument_exception",
       "Result window is too large, from + size must be less than or equal to: [10000] but was "
       "[9223372036854775808]. See the scroll api for a more efficient way to request large data "
       "sets. This limit can be set by changing the [index.max_result_window] index level "
       "setting."},
      {R"({"from":"9223372036854775807","size":"9223372036854775807"})",
       "illegal_argument_exception",
       "Result window is too large, from + size must be less than or equal to: [10000] but was "
       "[18446744073709551614]. See the scroll api for a more efficient way to request large "
       "data sets. This limit can be set by changing the [index.max_result_window] index level "
       "setting."},
      {R"({"size":"ten"})", "x_content_parse_exception",
       "[query_api_key_request_payload] size doesn't support values of type: VALUE_STRING"},
      {R"({"search_after":[1]})", "illegal_argument_exception",
       "search_after has 1 value(s) but sort has 0."},
      {R"({"sort":["name"],"search_after":["a"],"from":2})", "illegal_argument_exception",
       "`from` parameter must be set to 0 when `search_after` is used."},
      {R"({"querry":{}})", "x_content_parse_exception",
       "[query_api_key_request_payload] unknown field [querry]"},
      {R"([])", "x_content_parse_exception",
       "[query_api_key_request_payload] Expected START_OBJECT but was: START_ARRAY"},
  };
  for (const auto& r : rows) {
    INFO(r.body);
    auto body = json::parse(r.body);
    auto parsed = parse_query_request(&body, now);
    REQUIRE(std::holds_alternative<api_error>(parsed));
    const auto& e = std::get<api_error>(parsed);
    CHECK(e.status == 400);
    CHECK(e.type == r.type);
    CHECK(e.reason == r.reason);
  }
}

TEST_CASE("query: sorting, paging, search_after and _sort values", "[admin][query]") {
  const auto recs = records();
  auto go = [&](const char* body) {
    auto b = json::parse(body);
    auto parsed = parse_query_request(&b, now);
    if (auto* e = std::get_if<api_error>(&parsed)) FAIL(e->reason);
    auto res = run_query(std::get<query_request>(parsed), recs);
    if (auto* e = std::get_if<api_error>(&res)) FAIL(e->reason);
    return std::get<query_result>(res);
  };
  auto hit_ids = [](const query_result& r) {
    ids out;
    for (const auto& h : r.hits) out.push_back(h.record->id);
    return out;
  };

  SECTION("default: _doc order, size 10, no _sort") {
    auto r = go("{}");
    CHECK(r.total == 5);
    CHECK(hit_ids(r) == ids{"k0", "k1", "k2", "k3", "k4"});
    CHECK(r.hits[0].sort_values.empty());
  }
  SECTION("from/size page the sorted matches; total counts them all") {
    auto r = go(R"({"sort":[{"creation":"desc"}],"from":1,"size":2})");
    CHECK(r.total == 5);
    CHECK(hit_ids(r) == ids{"k3", "k2"});
    CHECK(json::serialize(r.hits[0].sort_values) == "[1699654400000]");
  }
  SECTION("keyword sort is byte order; missing dates sort last with Long.MAX/MIN") {
    CHECK(hit_ids(go(R"({"sort":["name"]})")) == ids{"k2", "k3", "k4", "k1", "k0"});
    auto asc = go(R"({"sort":["expiration","name"]})");
    CHECK(hit_ids(asc) == ids{"k2", "k0", "k4", "k3", "k1"});
    CHECK(json::serialize(asc.hits[4].sort_values) == "[9223372036854775807,\"web-dev\"]");
    auto desc = go(R"({"sort":[{"expiration":{"order":"desc"}}]})");
    CHECK(hit_ids(desc) == ids{"k4", "k0", "k2", "k1", "k3"});
    CHECK(json::serialize(desc.hits[4].sort_values) == "[-9223372036854775808]");
    auto first = go(R"({"sort":[{"expiration":{"missing":"_first"}}]})");
    CHECK(hit_ids(first) == ids{"k1", "k3", "k2", "k0", "k4"});
  }
  SECTION("boolean, metadata and formatted date sort values") {
    auto r = go(R"({"sort":["invalidated",{"metadata.env":"desc"},"_doc"],"size":2})");
    CHECK(hit_ids(r) == ids{"k0", "k2"});
    CHECK(json::serialize(r.hits[0].sort_values) == "[false,\"prod\",0]");
    auto f = go(R"({"sort":[{"creation":{"format":"date_time"}}],"size":1})");
    CHECK(json::serialize(f.hits[0].sort_values) == "[\"2023-11-04T22:13:20.000Z\"]");
  }
  SECTION("search_after continues after the given sort values") {
    auto page1 = go(R"({"sort":["creation"],"size":2})");
    CHECK(hit_ids(page1) == ids{"k0", "k1"});
    const std::string after = json::serialize(page1.hits[1].sort_values);
    auto page2 =
        go(("{\"sort\":[\"creation\"],\"size\":2,\"search_after\":" + after + "}").c_str());
    CHECK(hit_ids(page2) == ids{"k2", "k3"});
    CHECK(page2.total == 5);
    auto by_name = go(R"({"sort":[{"name":"desc"}],"search_after":["web-dev"]})");
    CHECK(hit_ids(by_name) == ids{"k4", "k3", "k2"});
  }
  SECTION("query and sort together") {
    auto r = go(R"({"query":{"term":{"metadata.env":"prod"}},"sort":[{"creation":"desc"}]})");
    CHECK(r.total == 2);
    CHECK(hit_ids(r) == ids{"k2", "k0"});
  }
}
