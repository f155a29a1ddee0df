// id_sniffer: top-level context ids only, whatever the body's splits; nested look-alikes,
// non-JSON and truncated bodies yield nothing they should not.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "esgate/cursor/cursor.hpp"

using namespace esgate::cursor;

namespace {

// What the request asked for: a scroll, a task (wait_for_completion=false), an SQL cursor.
constexpr int S = 1, T = 2, C = 4;

struct sniff_case {
  const char* name;
  std::optional<kind> id_kind;
  int want;
  std::string body;
  std::vector<std::pair<kind, std::string>> expect;
};

id_sniffer make(const sniff_case& c) {
  return id_sniffer(c.id_kind, (c.want & S) != 0, (c.want & T) != 0, (c.want & C) != 0);
}

std::vector<std::pair<kind, std::string>> flat(const std::vector<context_ref>& v) {
  std::vector<std::pair<kind, std::string>> out;
  for (const auto& r : v) out.emplace_back(r.k, r.id);
  return out;
}

std::vector<std::pair<kind, std::string>> sniff_whole(const sniff_case& c) {
  auto s = make(c);
  s.feed(c.body);
  return flat(s.found());
}

std::vector<std::pair<kind, std::string>> sniff_chunks(const sniff_case& c, std::size_t step) {
  auto s = make(c);
  for (std::size_t i = 0; i < c.body.size(); i += step)
    s.feed(std::string_view(c.body).substr(i, step));
  return flat(s.found());
}

const std::string hits_with_lookalikes =
    R"("hits":{"total":{"value":2,"relation":"eq"},"hits":[)"
    R"({"_index":"a","_id":"1","_source":{"_scroll_id":"NESTED1","id":"NESTED2","pit_id":"N3",)"
    R"("cursor":"N4","task":"N5","deep":[[{"pit_id":"N6"}]]}},)"
    R"({"_index":"a","_id":"2","_source":{"text":"\"pit_id\":\"FAKE\"",)"
    R"("n":[1,2.5,-3e7,true,null]}}]})";

}  // namespace

TEST_CASE("id_sniffer: table", "[cursor][sniffer]") {
  const auto P = std::optional<kind>(kind::pit);
  const auto none = std::optional<kind>();
  // clang-format off
  const std::vector<sniff_case> cases = {
      {"scroll response, _scroll_id first", none, S,
       R"({"_scroll_id":"FGluY2x1ZGVfY29udGV4dF91dWlkDXF1ZXJ5QW5kRmV0Y2gBFk","took":3,)"
       R"("timed_out":false,)" + hits_with_lookalikes + "}",
       {{kind::scroll, "FGluY2x1ZGVfY29udGV4dF91dWlkDXF1ZXJ5QW5kRmV0Y2gBFk"}}},
      {"scroll not asked for: _scroll_id ignored", none, 0, R"({"_scroll_id":"abc","took":1})", {}},
      {"PIT open", P, 0,
       R"({"id":"46ToAwMDaWR5BXV1aWQy","_shards":{"total":1,"successful":1,"skipped":0,)"
       R"("failed":0}})",
       {{kind::pit, "46ToAwMDaWR5BXV1aWQy"}}},
      {"id not a context id here", none, 0, R"({"id":"x"})", {}},
      {"search with PIT: pit_id late, after hits with nested look-alikes", none, 0,
       R"({"took":2,"timed_out":false,)" + hits_with_lookalikes + R"(,"pit_id":"P1=="})",
       {{kind::pit, "P1=="}}},
      {"async search submit", kind::async_search, 0,
       R"({"id":"FmRldE8zREVEUzA2ZVpUeGs2ejJFUFEaMkZ5QTVrSTZSaVN3WlNFVmtlWHJsdzoxMDc=",)"
       R"("is_partial":true,"is_running":true,"start_time_in_millis":1583945890986,)"
       R"("response":{"id":"INNER","_scroll_id":"INNER2","hits":{"hits":[]}}})",
       {{kind::async_search,
         "FmRldE8zREVEUzA2ZVpUeGs2ejJFUFEaMkZ5QTVrSTZSaVN3WlNFVmtlWHJsdzoxMDc="}}},
      {"task (wait_for_completion=false)", none, T, R"({"task":"oTUltX4IQMOUUVeiohTt8A:12345"})",
       {{kind::task, "oTUltX4IQMOUUVeiohTt8A:12345"}}},
      {"task not wanted", none, 0, R"({"task":"n:1"})", {}},
      {"SQL cursor at the end", kind::sql, C,
       R"({"columns":[{"name":"cursor","type":"text"}],"rows":[["cursor","id"],["x",1]],)"
       R"("cursor":"sDXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAAEWYUpOYklQMHhRUEtld3RsNnFtYU1hQQ=="})",
       {{kind::sql, "sDXF1ZXJ5QW5kRmV0Y2gBAAAAAAAAAAEWYUpOYklQMHhRUEtld3RsNnFtYU1hQQ=="}}},
      {"SQL async: id and cursor", kind::sql, C,
       R"({"id":"Fnc5UllQdUVWU0NxRFNMbWxNYXp4bmcaMzRxM3JQbjJSTWlxYlFlTmJkRlFxdzo4",)"
       R"("is_partial":false,"is_running":false,"rows":[],"cursor":"C2"})",
       {{kind::sql, "Fnc5UllQdUVWU0NxRFNMbWxNYXp4bmcaMzRxM3JQbjJSTWlxYlFlTmJkRlFxdzo4"},
        {kind::sql, "C2"}}},
      {"escapes decoded", P, 0, R"({"id":"\u0041B\/C\\D\"E\u00e9\ud83d\ude00"})",
       {{kind::pit, "AB/C\\D\"E\xc3\xa9\xf0\x9f\x98\x80"}}},
      {"escaped key matches", none, 0, R"({"pit\u005fid":"P"})", {{kind::pit, "P"}}},
      {"non-string values are not ids", P, S | T | C,
       R"({"id":12,"_scroll_id":null,"pit_id":{"x":"y"},"cursor":["c"],"task":true,"id":"ok"})",
       {{kind::pit, "ok"}}},
      {"empty string value is captured as is", P, 0, R"({"id":""})", {{kind::pit, ""}}},
      {"every kind at once, in body order", kind::async_search, S | T | C,
       R"({"task":"t","cursor":"c","id":"i","pit_id":"p","_scroll_id":"s"})",
       {{kind::task, "t"}, {kind::sql, "c"}, {kind::async_search, "i"}, {kind::pit, "p"},
        {kind::scroll, "s"}}},
      {"keys differing slightly do not match", P, S | T | C,
       R"({"ID":"a","_scroll_id ":"b","pit_idx":"c","xid":"d","_scroll_id_and_more_text":"e"})",
       {}},
      {"whitespace everywhere", P, 0, " \r\n\t{ \n\"id\" \t:\n \"W\" \n}\n ", {{kind::pit, "W"}}},
      {"root array: nothing is top-level", P, S | T | C, R"([{"id":"a","_scroll_id":"b"}])", {}},
      {"root string", P, 0, R"("id")", {}},
      {"non-JSON body", P, S | T | C, "<html><body>{\"id\":\"x\"}</body></html>", {}},
      {"plain text", P, S | T | C, "id: x\n", {}},
      {"truncated inside the second value: only the first", P, S,
       R"({"_scroll_id":"S1","id":"PARTI)", {{kind::scroll, "S1"}}},
      {"truncated right after a key", P, 0, R"({"id":)", {}},
      {"syntax error stops: values before it are kept, after it not", P, S,
       R"({"id":"A","x":tru,"_scroll_id":"B"})", {{kind::pit, "A"}}},
      {"data after the document is not read", P, 0, R"({"id":"A"}{"id":"B"})", {{kind::pit, "A"}}},
      // ES never writes comments; Boost.JSON 1.81 mishandles them across splits.
      {"comments are not JSON here", P, 0, "{\"id\":\"A\",/* c */\"pit_id\":\"Q\"}",
       {{kind::pit, "A"}}},
      {"top-level comment then a number", P, 0, "//x\n11111.1E1nanos", {}},
      {"invalid UTF-8 inside a hit does not stop the sniffer", none, 0,
       "{\"hits\":[\"\xff\xfe\"],\"pit_id\":\"P\"}", {{kind::pit, "P"}}},
      {"deeply nested hits (deeper than Boost's default 32)", none, 0,
       "{\"hits\":" + std::string(200, '[') + std::string(200, ']') + ",\"pit_id\":\"D\"}",
       {{kind::pit, "D"}}},
  };
  // clang-format on
  for (const auto& c : cases) {
    SECTION(c.name) {
      CHECK(sniff_whole(c) == c.expect);
      // Every split point, and byte-at-a-time, give the same answer.
      for (std::size_t cut = 0; cut <= c.body.size(); ++cut) {
        auto s = make(c);
        s.feed(std::string_view(c.body).substr(0, cut));
        s.feed(std::string_view(c.body).substr(cut));
        INFO("cut at " << cut);
        CHECK(flat(s.found()) == c.expect);
      }
      CHECK(sniff_chunks(c, 1) == c.expect);
      CHECK(sniff_chunks(c, 7) == c.expect);
    }
  }
}

TEST_CASE("id_sniffer: truncated body yields only complete values at every length",
          "[cursor][sniffer]") {
  const std::string body = R"({"_scroll_id":"AAAA","pit_id":"BBBB","id":"CCCC"})";
  const auto end_of = [&](std::string_view v) { return body.find(v) + v.size() + 1; };
  for (std::size_t len = 0; len <= body.size(); ++len) {
    id_sniffer s(kind::pit, true, false, false);
    for (std::size_t i = 0; i < len; ++i) s.feed(body.substr(i, 1));
    std::vector<std::pair<kind, std::string>> expect;
    if (len >= end_of("AAAA")) expect.emplace_back(kind::scroll, "AAAA");
    if (len >= end_of("BBBB")) expect.emplace_back(kind::pit, "BBBB");
    if (len >= end_of("CCCC")) expect.emplace_back(kind::pit, "CCCC");
    INFO("length " << len);
    CHECK(flat(s.found()) == expect);
  }
}

TEST_CASE("id_sniffer: value size cap", "[cursor][sniffer]") {
  const std::string at_cap(64 * 1024, 'a');
  const std::string over_cap(64 * 1024 + 1, 'b');
  for (std::size_t step : {std::size_t(1000), std::size_t(1) << 20}) {
    id_sniffer s(kind::pit, true, false, false);
    const std::string body =
        R"({"_scroll_id":")" + over_cap + R"(","id":")" + at_cap + R"(","pit_id":"small"})";
    for (std::size_t i = 0; i < body.size(); i += step)
      s.feed(std::string_view(body).substr(i, step));
    INFO("step " << step);
    CHECK(flat(s.found()) ==
          std::vector<std::pair<kind, std::string>>{{kind::pit, at_cap}, {kind::pit, "small"}});
  }
  // A long nested string is simply skipped over.
  id_sniffer s(std::nullopt, false, false, false);
  s.feed(R"({"hits":[")" + std::string(300000, 'x') + R"("],"pit_id":"after"})");
  CHECK(flat(s.found()) == std::vector<std::pair<kind, std::string>>{{kind::pit, "after"}});
}

TEST_CASE("id_sniffer: moved-from and empty feeds", "[cursor][sniffer]") {
  id_sniffer a(kind::pit, false, false, false);
  a.feed("");
  a.feed(R"({"id")");
  a.feed("");
  a.feed(R"(:"X"})");
  id_sniffer b(std::move(a));
  CHECK(flat(b.found()) == std::vector<std::pair<kind, std::string>>{{kind::pit, "X"}});
  a.feed(R"({"id":"Y"})");  // NOLINT(bugprone-use-after-move): moved-from is inert by design
  CHECK(a.found().empty());
}
