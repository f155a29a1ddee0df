// Gateway items spliced back into upstream multi-item answers at their original positions.
#include <algorithm>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "esgate/response/es_json.hpp"

namespace response = esgate::response;
namespace json = boost::json;

namespace {

std::string q(std::string s) {
  for (char& c : s)
    if (c == '\'') c = '"';
  return s;
}

json::value denied(const char* id) {
  return json::parse(q("{'index':{'_index':'secret','_id':'" + std::string(id) +
                       "','status':403,'error':{'type':'security_exception','reason':'no'}}}"));
}

std::string ok(const char* id) {
  return "{'index':{'_index':'logs','_id':'" + std::string(id) + "','status':201}}";
}

std::string bulk_of(const std::vector<std::string>& items, bool errors = false) {
  std::string s = std::string("{'errors':") + (errors ? "true" : "false") + ",'took':7,'items':[";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? "," : "") + items[i];
  return q(s + "]}");
}

std::vector<response::spliced_item> at(std::vector<std::pair<std::size_t, json::value>> v) {
  std::vector<response::spliced_item> out;
  for (auto& [pos, item] : v) out.push_back({pos, std::move(item)});
  return out;
}

std::string den(const char* id) { return q(json::serialize(denied(id))); }

}  // namespace

TEST_CASE("bulk: denied items go back at their positions, errors becomes true") {
  std::string upstream = bulk_of({ok("a"), ok("b")});
  struct {
    std::vector<std::size_t> positions;
    std::vector<std::string> expected_items;
  } const cases[] = {
      {{0}, {den("x0"), q(ok("a")), q(ok("b"))}},
      {{1}, {q(ok("a")), den("x1"), q(ok("b"))}},
      {{2}, {q(ok("a")), q(ok("b")), den("x2")}},
      {{0, 2}, {den("x0"), q(ok("a")), den("x2"), q(ok("b"))}},
      {{1, 2, 3}, {q(ok("a")), den("x1"), den("x2"), den("x3"), q(ok("b"))}},
  };
  for (const auto& c : cases) {
    std::vector<response::spliced_item> inserts;
    for (auto p : c.positions) inserts.push_back({p, denied(("x" + std::to_string(p)).c_str())});
    std::string expected = "{\"errors\":true,\"took\":7,\"items\":[";
    for (std::size_t i = 0; i < c.expected_items.size(); ++i)
      expected += (i ? "," : "") + c.expected_items[i];
    expected += "]}";
    for (const char* filter : {"", " , "}) {
      auto out = response::splice_response(upstream, "items", inserts, true, filter, false);
      REQUIRE(out);
      CHECK(*out == expected);
    }
    // The DOM path (a filter that keeps everything) gives the same bytes.
    auto dom = response::splice_response(upstream, "items", inserts, true, "-nothing", false);
    REQUIRE(dom);
    CHECK(*dom == expected);
  }
}

TEST_CASE("bulk: inserts may come unsorted; nothing inserted leaves the body alone") {
  std::string upstream = bulk_of({ok("a")});
  auto out = response::splice_response(upstream, "items",
                                       at({{2, denied("2")}, {0, denied("0")}}), true, "", false);
  REQUIRE(out);
  CHECK(*out == q("{'errors':true,'took':7,'items':[") + den("0") + "," + q(ok("a")) + "," +
                    den("2") + "]}");
  auto same = response::splice_response(upstream, "items", {}, true, "", false);
  REQUIRE(same);
  CHECK(*same == upstream);
}

TEST_CASE("bulk: the compact path keeps upstream bytes verbatim") {
  // _source as indexed (ES writes raw bytes when neither filtering nor pretty printing).
  std::string upstream = q(
      "{'took':1,'errors':false,'items':[ {'update':{'_id':'1','status':200,"
      "'get':{'_source':{'price':10.50,'n':1e2,'s':'\\u00e9\\/'}}}} ]}");
  auto out = response::splice_response(upstream, "items", at({{1, denied("2")}}), true, "", false);
  REQUIRE(out);
  CHECK(*out == q("{'took':1,'errors':true,'items':[{'update':{'_id':'1','status':200,"
                  "'get':{'_source':{'price':10.50,'n':1e2,'s':'\\u00e9\\/'}}}},") +
                    den("2") + "]}");
  // Pretty or filtered responses are re-generated, as ES re-generates raw fields then.
  auto filtered =
      response::splice_response(upstream, "items", {}, false, "items.*.get", false);
  REQUIRE(filtered);
  CHECK(*filtered ==
        q("{'items':[{'update':{'get':{'_source':{'price':10.5,'n':100.0,'s':'\xC3\xA9/'}}}}]}"));
  // No `errors` member (not what ES sends) gets one, first as in ES 8.
  auto added = response::splice_response(q("{'took':1,'items':[]}"), "items",
                                         at({{0, denied("0")}}), true, "", false);
  REQUIRE(added);
  CHECK(*added == q("{'errors':true,'took':1,'items':[") + den("0") + "]}");
}

TEST_CASE("bulk: everything denied builds ES's whole response") {
  auto out = response::splice_response("", "items", at({{0, denied("0")}, {1, denied("1")}}),
                                       true, "", false);
  REQUIRE(out);
  CHECK(*out == q("{'errors':true,'took':0,'items':[") + den("0") + "," + den("1") + "]}");
  auto pretty = response::splice_response("", "items", at({{0, denied("0")}}), true, "", true);
  REQUIRE(pretty);
  CHECK(*pretty ==
        "{\n"
        "  \"errors\" : true,\n"
        "  \"took\" : 0,\n"
        "  \"items\" : [\n"
        "    {\n"
        "      \"index\" : {\n"
        "        \"_index\" : \"secret\",\n"
        "        \"_id\" : \"0\",\n"
        "        \"status\" : 403,\n"
        "        \"error\" : {\n"
        "          \"type\" : \"security_exception\",\n"
        "          \"reason\" : \"no\"\n"
        "        }\n"
        "      }\n"
        "    }\n"
        "  ]\n"
        "}\n");
  // Positions must cover 0..n-1 exactly.
  CHECK_FALSE(response::splice_response("", "items", at({{1, denied("1")}}), true, "", false));
}

TEST_CASE("bulk: Logstash's filter_path over a spliced response keeps positions") {
  std::string upstream = bulk_of({ok("a"), ok("b"), ok("c")});
  std::string logstash = "errors,items.*.error,items.*.status";
  auto out = response::splice_response(upstream, "items", at({{1, denied("1")}, {3, denied("3")}}),
                                       true, logstash, false);
  REQUIRE(out);
  std::string err = "{'type':'security_exception','reason':'no'}";
  CHECK(*out == q("{'errors':true,'items':[{'index':{'status':201}},{'index':{'status':403,"
                  "'error':" + err + "}},{'index':{'status':201}},{'index':{'status':403,"
                  "'error':" + err + "}},{'index':{'status':201}}]}"));
  // Beats' older variant without status: only the failed items remain, in order.
  auto errors_only = response::splice_response(upstream, "items", at({{3, denied("3")}}), true,
                                               "errors,items.*.error", false);
  REQUIRE(errors_only);
  CHECK(*errors_only == q("{'errors':true,'items':[{'index':{'error':" + err + "}}]}"));
  auto nothing = response::splice_response(upstream, "items", {}, false, "items.*.error", false);
  REQUIRE(nothing);
  CHECK(*nothing == "{}");
  auto nothing_pretty =
      response::splice_response(upstream, "items", {}, false, "items.*.error", true);
  REQUIRE(nothing_pretty);
  CHECK(*nothing_pretty == "{ }\n");
}

TEST_CASE("msearch and mget splices") {
  std::string error = "{'error':{'root_cause':[{'type':'security_exception','reason':'no'}],"
                      "'type':'security_exception','reason':'no'},'status':403}";
  std::string hit = "{'took':2,'timed_out':false,'hits':{'total':{'value':1,'relation':'eq'},"
                    "'max_score':1.2345678,'hits':[]},'status':200}";
  auto ms = response::splice_response(q("{'took':4,'responses':[" + hit + "]}"), "responses",
                                      at({{0, json::parse(q(error))}}), false, "", false);
  REQUIRE(ms);
  CHECK(*ms == q("{'took':4,'responses':[" + error + "," + hit + "]}"));
  auto ms_filtered = response::splice_response(
      q("{'took':4,'responses':[" + hit + "]}"), "responses", at({{0, json::parse(q(error))}}),
      false, "responses.status,responses.hits.max_score", false);
  REQUIRE(ms_filtered);
  CHECK(*ms_filtered ==
        q("{'responses':[{'status':403},{'hits':{'max_score':1.2345678},'status':200}]}"));
  auto ms_all = response::splice_response("", "responses", at({{0, json::parse(q(error))}}),
                                          false, "", false);
  REQUIRE(ms_all);
  CHECK(*ms_all == q("{'took':0,'responses':[" + error + "]}"));

  std::string doc = "{'_index':'logs','_id':'1','_version':1,'found':true,'_source':{'x':1.50}}";
  std::string bad = "{'_index':'secret','_id':'2','error':{'root_cause':[],'type':"
                    "'security_exception','reason':'no'}}";
  auto mg = response::splice_response(q("{'docs':[" + doc + "]}"), "docs",
                                      at({{0, json::parse(q(bad))}}), false, "", false);
  REQUIRE(mg);
  CHECK(*mg == q("{'docs':[" + bad + "," + doc + "]}"));
  auto mg_all = response::splice_response("", "docs", at({{0, json::parse(q(bad))}}), false, "",
                                          false);
  REQUIRE(mg_all);
  CHECK(*mg_all == q("{'docs':[" + bad + "]}"));
}

TEST_CASE("malformed or mismatched upstream answers give nullopt") {
  const char* bodies[] = {"{", "[]", "null", "{\"items\":{}}", "{\"items\":[1,]}", "{\"took\":1}",
                          "{\"items\":[1]} x", "<html>", "{\"items\":\"[]\"}"};
  for (const char* b : bodies) {
    INFO(b);
    CHECK_FALSE(response::splice_response(b, "items", {}, true, "", false));
    CHECK_FALSE(response::splice_response(b, "items", {}, true, "items", true));
  }
  std::string two = bulk_of({ok("a"), ok("b")});
  // Past the end (upstream answered fewer items than expected), or two at one position.
  CHECK_FALSE(response::splice_response(two, "items", at({{3, denied("3")}}), true, "", false));
  CHECK_FALSE(response::splice_response(two, "items", at({{4, denied("4")}, {0, denied("0")}}),
                                        true, "", true));
  CHECK_FALSE(response::splice_response(two, "items", at({{1, denied("1")}, {1, denied("1")}}),
                                        true, "", false));
  // The key is matched at the top level only, escapes decoded.
  auto nested = response::splice_response(q("{'x':{'items':[1]},'\\u0069tems':[2]}"), "items",
                                          at({{0, json::value(0)}}), false, "", false);
  REQUIRE(nested);
  CHECK(*nested == q("{'x':{'items':[1]},'\\u0069tems':[0,2]}"));
}

TEST_CASE("a 100k-item bulk response splices in one pass") {
  std::string upstream = "{\"errors\":false,\"took\":1,\"items\":[";
  const std::size_t n = 100000;
  for (std::size_t i = 0; i < n; ++i)
    upstream += std::string(i ? "," : "") + "{\"index\":{\"status\":201}}";
  upstream += "]}";
  std::vector<response::spliced_item> inserts;
  for (std::size_t i = 0; i < n; ++i)
    inserts.push_back({2 * i + 1, json::parse("{\"index\":{\"status\":403}}")});
  for (const char* filter : {"", "items.*.status"}) {
    auto out = response::splice_response(upstream, "items", inserts, true, filter, false);
    REQUIRE(out);
    auto v = json::parse(*out);
    const auto& items = v.at("items").as_array();
    REQUIRE(items.size() == 2 * n);
    CHECK(items[0].at("index").at("status") == 201);
    CHECK(items[1].at("index").at("status") == 403);
    CHECK(items[2 * n - 1].at("index").at("status") == 403);
  }
}

TEST_CASE("splice as parts: the same bytes as the flat splice, upstream runs not copied") {
  const std::string upstream = bulk_of({ok("a"), ok("b"), ok("c"), ok("d")});
  const std::string spaced = q("{ 'took' : 7 , 'items' : [ " + ok("a") + " , " + ok("b") +
                               " ] , 'errors' : false }");
  const std::string no_errors = q("{'took':7,'items':[" + ok("a") + "," + ok("b") + "]}");
  struct {
    const std::string* body;
    std::vector<std::size_t> positions;
  } const cases[] = {
      {&upstream, {0}},       {&upstream, {4}},       {&upstream, {2}},
      {&upstream, {0, 1}},    {&upstream, {1, 3, 5}}, {&upstream, {0, 2, 4, 6, 7}},
      {&spaced, {1}},         {&spaced, {0, 3}},      {&no_errors, {0}},
      {&no_errors, {1, 2}},   {&upstream, {}},
  };
  for (const auto& c : cases) {
    auto make = [&] {
      std::vector<response::spliced_item> inserts;
      for (auto p : c.positions) inserts.push_back({p, denied(("x" + std::to_string(p)).c_str())});
      return inserts;
    };
    CAPTURE(*c.body, c.positions);
    const auto flat = response::splice_response(*c.body, "items", make(), true, "", false);
    const auto parts = response::splice_response_parts(*c.body, "items", make(), true, "", false);
    REQUIRE(flat);
    REQUIRE(parts);
    CHECK(parts->flatten() == *flat);
    CHECK(parts->size() == flat->size());
    CHECK(json::parse(*flat).at("items").as_array().size() == 2 * (c.body != &upstream) +
                                                                4 * (c.body == &upstream) +
                                                                c.positions.size());
    // Upstream elements are referenced, not copied: at most one run between two inserts.
    CHECK(parts->own.size() == c.positions.size());
    for (auto part : parts->parts) {
      const bool in_upstream = part.data() >= c.body->data() &&
                               part.data() + part.size() <= c.body->data() + c.body->size();
      const bool in_own = std::any_of(parts->own.begin(), parts->own.end(),
                                      [&](const std::string& s) { return s.data() == part.data(); });
      CHECK((in_upstream || in_own || part == "true" || part == "\"errors\":true,"));
    }
  }
  // Reshaping requests take the rebuilding path.
  CHECK_FALSE(response::splice_response_parts(upstream, "items", {}, true, "items.*.status", false));
  CHECK_FALSE(response::splice_response_parts(upstream, "items", {}, true, "", true));
  CHECK_FALSE(response::splice_response_parts("", "items", {}, true, "", false));
  CHECK_FALSE(response::splice_response_parts("{\"items\":[1,2]", "items", {}, true, "", false));
}
