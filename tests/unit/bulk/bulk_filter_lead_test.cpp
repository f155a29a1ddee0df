// bulk_filter: framing as Elasticsearch's BulkRequestParser, per-item verdicts, and the same
// result whatever the pieces the body arrives in. Fake authorizer: create/index/update/delete on
// `logs-*` allowed, `secret` denied, `Bad` an invalid name.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "esgate/bulk/bulk_filter.hpp"

namespace bulk = esgate::bulk;
using esgate::body::target_verdict;

namespace {

int calls = 0;

target_verdict fake(std::string_view action, std::string_view index, bool single) {
  ++calls;
  target_verdict v;
  REQUIRE(single);
  if (index == "Bad") {
    v.k = target_verdict::kind::bad_request;
    v.type = "invalid_index_name_exception";
    v.reason = "Invalid index name [Bad], must be lowercase";
  } else if (index.starts_with("logs-")) {
    v.k = target_verdict::kind::allow;
    v.names = {std::string(index)};
  } else {
    v.reason = "action [" + std::string(action) + "] is unauthorized on indices [" +
               std::string(index) + "]";
  }
  return v;
}

struct outcome {
  bool ok = false;
  std::string forwarded;
  std::vector<std::size_t> denied_positions;
  std::vector<std::string> denied_reasons;
  std::size_t items = 0;
  std::string error;
};

// Feeds `body` in pieces cut at `cuts` (offsets), carrying what was not consumed.
outcome run(const std::string& body, std::vector<std::size_t> cuts = {},
            bulk::bulk_defaults defaults = {}) {
  bulk::bulk_filter f(std::move(defaults), fake);
  outcome o;
  std::string pending;
  std::size_t from = 0;
  cuts.push_back(body.size());
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    const std::size_t to = std::max(from, std::min(cuts[i], body.size()));
    pending.append(body, from, to - from);
    from = to;
    const bool last = i + 1 == cuts.size();
    auto out = f.feed(pending, last);
    if (!out) {
      o.error = f.error()->reason;
      return o;
    }
    for (const auto& [b, e] : out->forward) o.forwarded.append(pending, b, e - b);
    pending.erase(0, out->consumed);
  }
  o.ok = f.done();
  for (const auto& d : f.denied()) {
    o.denied_positions.push_back(d.position);
    o.denied_reasons.push_back(d.reason);
  }
  o.items = f.items();
  return o;
}

}  // namespace

TEST_CASE("bulk: per-item verdicts, original bytes, positions", "[bulk]") {
  const std::string body =
      "{\"create\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n{\"a\":1}\n"
      "{\"index\":{\"_index\":\"secret\"}}\n{\"b\":2}\n"
      "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"2\"}}\n"
      "{\"update\":{\"_index\":\"Bad\",\"_id\":\"3\"}}\n{\"doc\":{}}\n"
      "{\"create\":{\"_index\":\"logs-b\"}}\r\n{\"c\":3}\r\n";
  const auto o = run(body);
  REQUIRE(o.ok);
  CHECK(o.items == 5);
  CHECK(o.forwarded ==
        "{\"create\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n{\"a\":1}\n"
        "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"2\"}}\n"
        "{\"create\":{\"_index\":\"logs-b\"}}\r\n{\"c\":3}\r\n");
  CHECK(o.denied_positions == std::vector<std::size_t>{1, 3});
  CHECK(o.denied_reasons[0].find("op_type/index") != std::string::npos);
}

TEST_CASE("bulk: the path's index is the default; escapes are decoded", "[bulk]") {
  const std::string body =
      "{\"create\":{}}\n{}\n{\"create\":{\"_index\":\"s\\u0065cret\"}}\n{}\n";
  const auto o = run(body, {}, {"logs-a", false});
  REQUIRE(o.ok);
  CHECK(o.forwarded == "{\"create\":{}}\n{}\n");
  CHECK(o.denied_positions == std::vector<std::size_t>{1});
  CHECK(o.denied_reasons[0].find("[secret]") != std::string::npos);
}

TEST_CASE("bulk: a source line that looks like an action is a source", "[bulk]") {
  const std::string body =
      "{\"create\":{\"_index\":\"logs-a\"}}\n{\"delete\":{\"_index\":\"secret\"}}\n";
  const auto o = run(body);
  REQUIRE(o.ok);
  CHECK(o.items == 1);
  CHECK(o.forwarded == body);
}

TEST_CASE("bulk: refused whole", "[bulk]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"create\":{\"_index\":\"logs-a\"}}\n{}", "terminated by a newline"},
      // ES drops an action line left without its source: here nothing remains.
      {"{\"create\":{\"_index\":\"logs-a\"}}\n", "no requests added"},
      {"{\"explode\":{}}\n{}\n", "explode"},
      {"[1]\n", "START_OBJECT"},
      {"{\"create\":{\"_index\":\"logs-a\",\"_index\":\"secret\"}}\n{}\n", "uplicate"},
      {"{\"create\":{\"colour\":\"red\",\"_index\":\"logs-a\"}}\n{}\n", "colour"},
      {"{\"create\":{}}\n{}\n", "index is missing"},
  };
  for (const auto& [body, fragment] : cases) {
    INFO(body);
    const auto o = run(body);
    CHECK_FALSE(o.ok);
    CHECK(o.error.find(fragment) != std::string::npos);
  }
}

TEST_CASE("bulk: the same result split at every byte boundary", "[bulk]") {
  const std::string body =
      "{\"create\":{\"_index\":\"logs-a\",\"_id\":\"1\"}}\n{\"a\":1}\n\n"
      "{\"index\":{\"_index\":\"secret\"}}\n{\"b\":2}\n"
      "{\"delete\":{\"_index\":\"logs-a\",\"_id\":\"2\"}}\n";
  const auto whole = run(body);
  REQUIRE(whole.ok);
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    INFO("cut at " << cut);
    const auto split = run(body, {cut});
    CHECK(split.ok);
    CHECK(split.forwarded == whole.forwarded);
    CHECK(split.denied_positions == whole.denied_positions);
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::size_t> cuts;
    for (std::size_t c = 0; c < body.size(); c += 1 + rng() % 9) cuts.push_back(c);
    const auto split = run(body, cuts);
    CHECK(split.forwarded == whole.forwarded);
    CHECK(split.denied_positions == whole.denied_positions);
  }
}

TEST_CASE("bulk: 100k items, one verdict per target", "[bulk]") {
  std::string body, expected;
  for (int i = 0; i < 100000; ++i) {
    const bool denied = i % 1000 == 999;
    std::string item = std::string("{\"create\":{\"_index\":\"") + (denied ? "secret" : "logs-a") +
                       "\",\"_id\":\"" + std::to_string(i) + "\"}}\n{\"n\":" + std::to_string(i) +
                       "}\n";
    if (!denied) expected += item;
    body += item;
  }
  calls = 0;
  const auto o = run(body);
  REQUIRE(o.ok);
  CHECK(o.items == 100000);
  CHECK(o.denied_positions.size() == 100);
  CHECK(o.denied_positions.front() == 999);
  CHECK(o.forwarded == expected);
  CHECK(calls == 2);  // cached per (action, index)
}

TEST_CASE("bulk: denied item JSON in Elasticsearch's shape", "[bulk]") {
  bulk::denied_item d;
  d.position = 3;
  d.op = bulk::bulk_op::create;
  d.index = "secret";
  d.id = "7";
  d.reason = "nope";
  const auto v = bulk::denied_item_json(d);
  CHECK(boost::json::serialize(v) ==
        R"({"create":{"_index":"secret","_id":"7","status":403,"error":{"type":"security_exception","reason":"nope"}}})");
  d.id.clear();
  const auto auto_id = bulk::denied_item_json(d);
  CHECK(auto_id.at("create").at("_id").as_string().size() == 20);
}
