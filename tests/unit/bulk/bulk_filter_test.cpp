// bulk_filter against Elasticsearch's BulkRequestParser (9.x) wording, item by item.
// Fake authorizer: `logs-*` allowed for every write action, `create-*` only for
// op_type/create, `Bad` an invalid name (400), anything else denied with a recognisable reason.
#include <catch2/catch.hpp>

#include <boost/json.hpp>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "esgate/bulk/bulk_filter.hpp"

namespace bulk = esgate::bulk;
using esgate::body::target_verdict;

namespace {

struct call_log {
  std::vector<std::string> calls;  // "action index"
};

bulk::target_authorizer fake_authorizer(call_log* log = nullptr) {
  return [log](std::string_view action, std::string_view index, bool single) {
    if (log) log->calls.push_back(std::string(action) + " " + std::string(index));
    target_verdict v;
    if (!single) {
      v.reason = "not single";
      return v;
    }
    if (index == "Bad") {
      v.k = target_verdict::kind::bad_request;
      v.type = "invalid_index_name_exception";
      v.reason = "Invalid index name [Bad], must be lowercase";
    } else if (index.starts_with("logs-") ||
               (index.starts_with("create-") &&
                action == "indices:data/write/index:op_type/create")) {
      v.k = target_verdict::kind::allow;
      v.names = {std::string(index)};
    } else {
      v.reason = "DENIED " + std::string(action) + " " + std::string(index);
    }
    return v;
  };
}

struct result {
  bool ok = false;
  std::string forwarded;
  std::string denied;  // "pos:op:index:id:status:reason;" ...
  std::size_t items = 0;
  std::string error_type;
  std::string error_reason;
  bool operator==(const result&) const = default;
};

std::string describe(const bulk::bulk_filter& f) {
  std::string s;
  for (const auto& d : f.denied()) {
    s += std::to_string(d.position) + ":" + std::string(bulk::to_string(d.op)) + ":" + d.index +
         ":" + d.id + ":" + std::to_string(d.status) + ":" + d.type + ":" + d.reason + ";";
  }
  return s;
}

// Feeds `body` cut at `cuts`, carrying the unconsumed rest like the session does, and checks
// the ranges are ordered, non-overlapping and within what was consumed.
result run(std::string_view body, std::vector<std::size_t> cuts = {},
           bulk::bulk_defaults defaults = {}, call_log* log = nullptr) {
  bulk::bulk_filter f(std::move(defaults), fake_authorizer(log));
  result r;
  std::string pending;
  std::size_t from = 0;
  cuts.push_back(body.size());
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    std::size_t to = std::max(from, std::min(cuts[i], body.size()));
    pending.append(body.substr(from, to - from));
    from = to;
    bool last = i + 1 == cuts.size();
    auto out = f.feed(pending, last);
    if (!out) {
      REQUIRE(f.error());
      r = result{};  // the whole request is refused: what earlier pieces forwarded is void
      r.error_type = f.error()->type;
      r.error_reason = f.error()->reason;
      REQUIRE(f.error()->status == 400);
      return r;
    }
    std::size_t prev = 0;
    for (auto [b, e] : out->forward) {
      REQUIRE(b >= prev);
      REQUIRE(b < e);
      REQUIRE(e <= out->consumed);
      prev = e;
      r.forwarded.append(pending, b, e - b);
    }
    REQUIRE(out->consumed <= pending.size());
    pending.erase(0, out->consumed);
  }
  REQUIRE(pending.empty());
  r.ok = f.done();
  r.denied = describe(f);
  r.items = f.items();
  REQUIRE(f.forwarded_items() == f.items() - f.denied().size());
  return r;
}

const std::string terminated = "The bulk request must be terminated by a newline [\\n]";

struct error_case {
  const char* name;
  std::string body;
  std::string type;
  std::string reason;
};

}  // namespace

TEST_CASE("bulk: item ops, sources, verdicts", "[bulk]") {
  struct ok_case {
    const char* name;
    std::string body;
    std::string forwarded;
    std::string denied;
    std::size_t items;
    std::string path_index = {};
  };
  const std::vector<ok_case> cases = {
      {"delete has no source", "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n",
       "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n", "", 1},
      {"index, create, update with sources",
       "{\"index\":{\"_index\":\"logs-a\"}}\n{\"a\":1}\n"
       "{\"create\":{\"_index\":\"logs-b\",\"_id\":\"x\"}}\n{\"b\":2}\n"
       "{\"update\":{\"_index\":\"logs-c\",\"_id\":\"y\"}}\n{\"doc\":{}}\n",
       "{\"index\":{\"_index\":\"logs-a\"}}\n{\"a\":1}\n"
       "{\"create\":{\"_index\":\"logs-b\",\"_id\":\"x\"}}\n{\"b\":2}\n"
       "{\"update\":{\"_index\":\"logs-c\",\"_id\":\"y\"}}\n{\"doc\":{}}\n",
       "", 3},
      {"denied items are dropped and reported",
       "{\"index\":{\"_index\":\"secret\",\"_id\":\"7\"}}\n{}\n"
       "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n"
       "{\"update\":{\"_index\":\"Bad\",\"_id\":\"3\"}}\n{\"doc\":{}}\n"
       "{\"delete\":{\"_index\":\"other\",\"_id\":\"4\"}}\n",
       "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n",
       "0:index:secret:7:403:security_exception:DENIED indices:data/write/index:op_type/index "
       "secret;"
       "2:update:Bad:3:400:invalid_index_name_exception:Invalid index name [Bad], must be "
       "lowercase;"
       "3:delete:other:4:403:security_exception:DENIED indices:data/write/delete other;",
       4},
      {"\\r\\n endings: \\r is whitespace in the action, kept in the source",
       "{\"create\":{\"_index\":\"logs-a\"}}\r\n{\"a\":1}\r\n"
       "{\"create\":{\"_index\":\"secret\"}}\r\n{\"a\":2}\r\n",
       "{\"create\":{\"_index\":\"logs-a\"}}\r\n{\"a\":1}\r\n",
       "1:create:secret::403:security_exception:DENIED indices:data/write/index:op_type/create "
       "secret;",
       2},
      {"blank lines between items are skipped (and forwarded)",
       "\n  \n{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n\t\r\n\n"
       "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"2\"}}\n",
       "\n  \n{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n\t\r\n\n"
       "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"2\"}}\n",
       "", 2},
      {"a blank source line is a source",
       "{\"create\":{\"_index\":\"logs-a\"}}\n\n{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}"
       "\n",
       "{\"create\":{\"_index\":\"logs-a\"}}\n\n{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}"
       "\n",
       "", 2},
      {"escaped index name is decoded before authorizing",
       "{\"create\":{\"_index\":\"lo\\u0067s-a\"}}\n{}\n"
       "{\"create\":{\"_index\":\"s\\u0065cret\"}}\n{}\n",
       "{\"create\":{\"_index\":\"lo\\u0067s-a\"}}\n{}\n",
       "1:create:secret::403:security_exception:DENIED indices:data/write/index:op_type/create "
       "secret;",
       2},
      {"a source line that looks like an action is a source",
       "{\"create\":{\"_index\":\"logs-a\"}}\n{\"delete\":{\"_index\":\"secret\",\"_id\":\"1\"}}\n",
       "{\"create\":{\"_index\":\"logs-a\"}}\n{\"delete\":{\"_index\":\"secret\",\"_id\":\"1\"}}\n",
       "", 1},
      {"a source that is not JSON is not parsed",
       "{\"create\":{\"_index\":\"logs-a\"}}\n{{{ not json\n",
       "{\"create\":{\"_index\":\"logs-a\"}}\n{{{ not json\n", "", 1},
      {"path index is the default",
       "{\"create\":{}}\n{}\n{\"create\":{\"_index\":\"secret\"}}\n{}\n{\"index\":{\"_index\":null}"
       "}\n{}\n",
       "{\"create\":{}}\n{}\n{\"index\":{\"_index\":null}}\n{}\n",
       "1:create:secret::403:security_exception:DENIED indices:data/write/index:op_type/create "
       "secret;",
       3, "logs-p"},
      {"op_type create in an index item needs only create; reported as create",
       "{\"index\":{\"_index\":\"create-a\",\"op_type\":\"create\"}}\n{}\n"
       "{\"index\":{\"_index\":\"create-a\"}}\n{}\n"
       "{\"index\":{\"_index\":\"create-a\",\"op_type\":\"index\"}}\n{}\n",
       "{\"index\":{\"_index\":\"create-a\",\"op_type\":\"create\"}}\n{}\n",
       "1:index:create-a::403:security_exception:DENIED indices:data/write/index:op_type/index "
       "create-a;"
       "2:index:create-a::403:security_exception:DENIED indices:data/write/index:op_type/index "
       "create-a;",
       3},
      {"all accepted parameters, nulls skipped even when unknown",
       "{\"index\":{\"_index\":\"logs-a\",\"_id\":\"1\",\"routing\":\"r\",\"version\":3,"
       "\"version_type\":\"external\",\"if_seq_no\":1,\"if_primary_term\":2,\"pipeline\":\"p\","
       "\"_source\":{\"includes\":[\"a\"]},\"require_alias\":true,\"require_data_stream\":false,"
       "\"list_executed_pipelines\":true,\"dynamic_templates\":{\"a\":\"b\"},\"whatever\":null,"
       "\"retry_on_conflict\":1}}\n{}\n",
       "{\"index\":{\"_index\":\"logs-a\",\"_id\":\"1\",\"routing\":\"r\",\"version\":3,"
       "\"version_type\":\"external\",\"if_seq_no\":1,\"if_primary_term\":2,\"pipeline\":\"p\","
       "\"_source\":{\"includes\":[\"a\"]},\"require_alias\":true,\"require_data_stream\":false,"
       "\"list_executed_pipelines\":true,\"dynamic_templates\":{\"a\":\"b\"},\"whatever\":null,"
       "\"retry_on_conflict\":1}}\n{}\n",
       "", 1},
      {"numeric _index and _id are their text", "{\"delete\":{\"_index\":12,\"_id\":34}}\n", "",
       "0:delete:12:34:403:security_exception:DENIED indices:data/write/delete 12;", 1},
      {"op with no parameter object at all uses the defaults", "{\"delete\":{\"_id\":\"1\"}}\n",
       "{\"delete\":{\"_id\":\"1\"}}\n", "", 1, "logs-x"},
      {"comments are allowed in action lines (Jackson ALLOW_COMMENTS)",
       "/* c */{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}} // tail\n",
       "/* c */{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}} // tail\n", "", 1},
      {"empty _index is refused per item, never authorized as 'all'",
       "{\"create\":{\"_index\":\"\"}}\n{}\n", "",
       "0:create:::400:invalid_index_name_exception:Invalid index name [], must not be empty;", 1},
      {"final index without its source line: ES drops it silently",
       "{\"create\":{\"_index\":\"logs-a\"}}\n{}\n{\"create\":{\"_index\":\"secret\"}}\n",
       "{\"create\":{\"_index\":\"logs-a\"}}\n{}\n", "", 1},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto r = run(c.body, {}, {c.path_index, false});
    CHECK(r.error_reason == "");
    CHECK(r.ok);
    CHECK(r.forwarded == c.forwarded);
    CHECK(r.denied == c.denied);
    CHECK(r.items == c.items);
  }
}

TEST_CASE("bulk: whole-request errors in Elasticsearch's words", "[bulk]") {
  const std::string iae = "illegal_argument_exception";
  const std::string xcp = "x_content_parse_exception";
  const std::string arv = "action_request_validation_exception";
  const std::vector<error_case> cases = {
      {"missing final newline", "{\"create\":{\"_index\":\"logs-a\"}}\n{}", iae, terminated},
      {"missing final newline after a delete", "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}",
       iae, terminated},
      {"trailing whitespace without newline",
       "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n  ", iae, terminated},
      {"unknown op", "{\"explode\":{}}\n{}\n", iae,
       "Malformed action/metadata line [1], expected field [create], [delete], [index] or "
       "[update] but found [explode]"},
      {"unknown parameter", "{\"create\":{\"colour\":\"red\",\"_index\":\"logs-a\"}}\n{}\n", iae,
       "Action/metadata line [1] contains an unknown parameter [colour]"},
      {"_type is an unknown parameter in v8+", "{\"create\":{\"_type\":\"_doc\"}}\n{}\n", iae,
       "Action/metadata line [1] contains an unknown parameter [_type]"},
      {"dynamic_templates as a scalar", "{\"index\":{\"dynamic_templates\":1}}\n{}\n", iae,
       "Action/metadata line [1] contains an unknown parameter [dynamic_templates]"},
      {"line number counts sources and blank lines",
       "{\"create\":{\"_index\":\"logs-a\"}}\n{}\n\n{\"nope\":{}}\n", iae,
       "Malformed action/metadata line [4], expected field [create], [delete], [index] or "
       "[update] but found [nope]"},
      {"action line is an array", "[{\"create\":{}}]\n{}\n", iae,
       "Malformed action/metadata line [1], expected START_OBJECT but found [START_ARRAY]"},
      {"action line is a string", "\"create\"\n", iae,
       "Malformed action/metadata line [1], expected START_OBJECT but found [VALUE_STRING]"},
      {"action line is a number", "  42\n", iae,
       "Malformed action/metadata line [1], expected START_OBJECT but found [VALUE_NUMBER]"},
      {"action line is null", "null\n", iae,
       "Malformed action/metadata line [1], expected START_OBJECT but found [VALUE_NULL]"},
      {"empty object", "{}\n", iae,
       "Malformed action/metadata line [1], expected FIELD_NAME but found [END_OBJECT]"},
      {"op value not an object", "{\"index\":\"logs-a\"}\n{}\n", iae,
       "Malformed action/metadata line [1], expected START_OBJECT or END_OBJECT but found "
       "[VALUE_STRING]"},
      {"op value an array", "{\"index\":[]}\n{}\n", iae,
       "Malformed action/metadata line [1], expected START_OBJECT or END_OBJECT but found "
       "[START_ARRAY]"},
      {"array parameter", "{\"index\":{\"_index\":[\"logs-a\"]}}\n{}\n", iae,
       "Malformed action/metadata line [1], expected a simple value for field [_index] but "
       "found [START_ARRAY]"},
      {"object parameter", "{\"index\":{\"_index\":{\"a\":1}}}\n{}\n", iae,
       "Malformed action/metadata line [1], expected a simple value for field [_index] but "
       "found [START_OBJECT]"},
      {"two ops in one line", "{ \"index\":{ }, \"something\": \"unexpected\" }\n{}\n", iae,
       "Malformed action/metadata line [1], expected END_OBJECT but found [FIELD_NAME]"},
      {"data after the closing brace", "{ \"index\":{ } } { \"something\": \"unexpected\" }\n{}\n",
       iae, "Malformed action/metadata line [1], unexpected data after the closing brace"},
      {"missing close brace", "{ \"index\":{ }\n{}\n", "x_content_e_o_f_exception",
       "[1:14] Unexpected end of file"},
      {"duplicate _index", "{\"index\":{\"_index\":\"logs-a\",\"_index\":\"secret\"}}\n{}\n", xcp,
       "[1:37] Duplicate field '_index'"},
      {"duplicate op", "{\"index\":{},\"index\":{}}\n{}\n", xcp, "[1:20] Duplicate field 'index'"},
      {"duplicate key, escaped spelling",
       "{\"index\":{\"_index\":\"a\",\"_ind\\u0065x\":\"b\"}}\n{}\n", xcp,
       "[1:37] Duplicate field '_index'"},
      {"duplicate key inside _source", "{\"index\":{\"_source\":{\"a\":1,\"a\":2}}}\n{}\n", xcp,
       "[1:31] Duplicate field 'a'"},
      {"duplicate null-valued unknown key", "{\"index\":{\"x\":null,\"x\":null}}\n{}\n", xcp,
       "[1:23] Duplicate field 'x'"},
      {"syntax error", "{\"index\":{\"_index\":}}\n{}\n", xcp,
       "[1:21] Unexpected character ('}' (code 125))"},
      {"update with version",
       "{\"update\":{\"_index\":\"logs-a\",\"_id\":\"1\",\"version\":2}}\n{}\n", iae,
       "Update requests do not support versioning. Please use `if_seq_no` and "
       "`if_primary_term` instead"},
      {"update with require_data_stream",
       "{\"update\":{\"_index\":\"logs-a\",\"_id\":\"1\",\"require_data_stream\":true}}\n{}\n", iae,
       "Update requests do not support the `require_data_stream` flag, as data streams do not "
       "support update operations"},
      {"delete with dynamic_templates",
       "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\",\"dynamic_templates\":{\"a\":\"b\"}}}\n",
       iae, "Delete request in line [1] does not accept dynamic_templates"},
      {"bad version_type", "{\"index\":{\"version_type\":\"nope\"}}\n{}\n", iae,
       "No version type match [nope]"},
      {"index missing (no path index)", "{\"create\":{}}\n{}\n", arv,
       "Validation Failed: 1: index is missing;"},
      {"delete needs index and id", "{\"delete\":{}}\n{\"create\":{}}\n{}\n", arv,
       "Validation Failed: 1: index is missing;2: id is missing;3: index is missing;"},
      {"a later parse error wins over validation", "{\"create\":{}}\n{}\n{\"bad\":{}}\n", iae,
       "Malformed action/metadata line [3], expected field [create], [delete], [index] or "
       "[update] but found [bad]"},
      {"no items at all", "\n\n", arv, "Validation Failed: 1: no requests added;"},
      {"only an action without source", "{\"create\":{\"_index\":\"logs-a\"}}\n", arv,
       "Validation Failed: 1: no requests added;"},
      {"empty body", "", "parse_exception", "request body is required"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto r = run(c.body);
    CHECK_FALSE(r.ok);
    CHECK(r.error_type == c.type);
    CHECK(r.error_reason == c.reason);
  }
}

TEST_CASE("bulk: item action names", "[bulk]") {
  using bulk::bulk_op;
  CHECK(bulk::bulk_item_action(bulk_op::index) == "indices:data/write/index:op_type/index");
  CHECK(bulk::bulk_item_action(bulk_op::index, "create") ==
        "indices:data/write/index:op_type/create");
  CHECK(bulk::bulk_item_action(bulk_op::index, "other") ==
        "indices:data/write/index:op_type/index");
  CHECK(bulk::bulk_item_action(bulk_op::create, "index") ==
        "indices:data/write/index:op_type/create");
  CHECK(bulk::bulk_item_action(bulk_op::update) == "indices:data/write/update");
  CHECK(bulk::bulk_item_action(bulk_op::del) == "indices:data/write/delete");
  CHECK(bulk::to_string(bulk_op::del) == "delete");
}

TEST_CASE("bulk: split at every byte and at random sizes gives the whole-body result", "[bulk]") {
  const std::vector<std::string> bodies = {
      "{\"create\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n{\"a\":1}\n\n"
      "{\"index\":{\"_index\":\"secret\"}}\r\n{\"b\":2}\r\n"
      "{\"delete\":{\"_index\":\"lo\\u0067s-a\",\"_id\":\"2\"}}\n"
      "{\"update\":{\"_index\":\"Bad\",\"_id\":\"3\"}}\n{\"doc\":{}}\n",
      "{\"create\":{\"_index\":\"logs-a\"}}\n{}\n{\"create\":{\"_index\":\"logs-a\"}}\n{}",
      "{\"create\":{\"_index\":\"logs-a\"}}\n{}\n{\"create\":{}}\n{}\n",
      "{\"create\":{\"_index\":\"logs-a\"}}\n{}\n{\"create\":{\"_index\":\"logs-a\"}}\n",
      "{\"create\":{\"_index\":\"logs-a\"}}\n{}\n{\"index\":{\"a\":[1]}}\n{}\n",
  };
  for (const auto& body : bodies) {
    INFO(body);
    const auto whole = run(body);
    for (std::size_t cut = 0; cut <= body.size(); ++cut) {
      INFO("cut at " << cut);
      CHECK(run(body, {cut}) == whole);
    }
    std::vector<std::size_t> every;
    for (std::size_t c = 0; c <= body.size(); ++c) every.push_back(c);
    CHECK(run(body, every) == whole);
    std::mt19937 rng(42);
    for (int round = 0; round < 100; ++round) {
      std::vector<std::size_t> cuts;
      for (std::size_t c = rng() % 5; c < body.size(); c += 1 + rng() % 13) cuts.push_back(c);
      CHECK(run(body, cuts) == whole);
    }
  }
}

TEST_CASE("bulk: one denied among 1000 leaves exactly the others' bytes", "[bulk]") {
  std::string body;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    bool denied = i == 617;
    std::string item = "{\"index\":{\"_index\":\"" + std::string(denied ? "secret" : "logs-a") +
                       "\",\"_id\":\"" + std::to_string(i) + "\"}}\n{\"n\":" + std::to_string(i) +
                       ",\"msg\":\"x\"}\n";
    body += item;
    if (!denied) expected += item;
  }
  call_log log;
  auto r = run(body, {}, {}, &log);
  REQUIRE(r.ok);
  CHECK(r.items == 1000);
  CHECK(r.forwarded == expected);
  CHECK(r.denied ==
        "617:index:secret:617:403:security_exception:DENIED "
        "indices:data/write/index:op_type/index secret;");
  // One authorizer call per distinct (action, index).
  CHECK(log.calls == std::vector<std::string>{"indices:data/write/index:op_type/index logs-a",
                                              "indices:data/write/index:op_type/index secret"});
}

TEST_CASE("bulk: 100k items", "[bulk]") {
  std::string body;
  std::vector<std::size_t> item_starts;
  for (int i = 0; i < 100000; ++i) {
    item_starts.push_back(body.size());
    body += "{\"create\":{\"_index\":\"logs-a\",\"_id\":\"" + std::to_string(i) +
            "\"}}\n{\"n\":" + std::to_string(i) + "}\n";
  }
  bulk::bulk_filter f({}, fake_authorizer());
  // Fed in 64 KiB pieces as a socket would deliver them.
  std::string forwarded;
  std::string pending;
  std::size_t from = 0;
  auto t0 = std::chrono::steady_clock::now();
  while (true) {
    std::size_t n = std::min<std::size_t>(65536, body.size() - from);
    pending.append(body, from, n);
    from += n;
    bool last = from == body.size();
    auto out = f.feed(pending, last);
    REQUIRE(out);
    // Consumed always ends on an item boundary.
    std::size_t consumed_abs = from - pending.size() + out->consumed;
    CHECK((consumed_abs == body.size() ||
           std::binary_search(item_starts.begin(), item_starts.end(), consumed_abs)));
    CHECK(out->forward.size() <= 1);  // all authorized: one merged range
    for (auto [b, e] : out->forward) forwarded.append(pending, b, e - b);
    pending.erase(0, out->consumed);
    if (last) break;
  }
  auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK(f.done());
  CHECK(f.items() == 100000);
  CHECK(f.denied().empty());
  CHECK(forwarded == body);
  // Generous even for a sanitizer build; a quadratic rescan would blow it.
  CHECK(elapsed < std::chrono::seconds(20));
}

TEST_CASE("bulk: the filter stops after an error", "[bulk]") {
  bulk::bulk_filter f({}, fake_authorizer());
  CHECK_FALSE(f.feed("[]\n", false));
  REQUIRE(f.error());
  CHECK(f.done());
  CHECK_FALSE(f.feed("{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n", true));
}

TEST_CASE("bulk: denied item JSON", "[bulk]") {
  bulk::denied_item d;
  d.position = 3;
  d.op = bulk::bulk_op::del;
  d.index = "secret";
  d.id = "7";
  d.reason = "nope";
  CHECK(boost::json::serialize(bulk::denied_item_json(d)) ==
        R"({"delete":{"_index":"secret","_id":"7","status":403,)"
        R"("error":{"type":"security_exception","reason":"nope"}}})");
  d.op = bulk::bulk_op::update;
  d.status = 400;
  d.type = "invalid_index_name_exception";
  d.id.clear();
  auto v = bulk::denied_item_json(d);
  const auto& item = v.at("update").as_object();
  CHECK(item.at("status").as_int64() == 400);
  CHECK(item.at("error").at("type").as_string() == "invalid_index_name_exception");
  const auto& id = item.at("_id").as_string();
  REQUIRE(id.size() == 20);
  for (char c : id) {
    CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'));
  }
  CHECK(bulk::denied_item_json(d).at("update").at("_id").as_string() != id);
}
