// What the Redis client and the key store make of every reply shape, without a server: replies
// are built by hiredis's own reader from RESP2 bytes (tests/support/resp.hpp). Nasty inputs: wrong
// types, nil, huge integers, nested arrays and nested errors, error replies, truncated records.
#include "esgate/keystore/redis_reply.hpp"

#include "resp.hpp"
#include "store_replies.hpp"

#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <climits>

using namespace esgate::keystore;
using namespace esgate::test_support;
using boost::system::error_code;
namespace json = boost::json;

namespace {

using kind = redis_reply::kind;

const std::string id_a = "AAAAAAAAAAAAAAAAAAAA";
const std::string id_b = "BBBBBBBBBBBBBBBBBBBB";

std::string record_json(const std::string& id, bool invalidated = false) {
  key_record r;
  r.id = id;
  r.name = "ci";
  r.creation = 1700000000000;
  r.username = "alice";
  r.api_key_hash = "{SSHA256}aGFzaGhhc2g=";
  r.invalidated = invalidated;
  if (invalidated) r.invalidation = 1700000000500;
  return json::serialize(to_json(r));
}

std::string array(std::initializer_list<std::string> elems) {
  std::string out = "*" + std::to_string(elems.size()) + "\r\n";
  for (const auto& e : elems) out += e;
  return out;
}

error_code ec(errc e) { return make_error_code(e); }

}  // namespace

TEST_CASE("to_reply / to_response: every RESP2 type, faithfully", "[keystore][replies]") {
  struct row {
    std::string resp;
    kind type;
    long long integer;
    std::string str;
    std::size_t elements;
    bool server_error;
  };
  const row rows[] = {
      {"+OK\r\n", kind::status, 0, "OK", 0, false},
      {"-ERR unknown command\r\n", kind::error, 0, "ERR unknown command", 0, true},
      {"-\r\n", kind::error, 0, "", 0, true},
      {":0\r\n", kind::integer, 0, "", 0, false},
      {":9223372036854775807\r\n", kind::integer, LLONG_MAX, "", 0, false},
      {":-9223372036854775808\r\n", kind::integer, LLONG_MIN, "", 0, false},
      {"$-1\r\n", kind::nil, 0, "", 0, false},
      {"*-1\r\n", kind::nil, 0, "", 0, false},
      {"$0\r\n\r\n", kind::string, 0, "", 0, false},
      {std::string("$5\r\na\0b\r\n\r\n", 12), kind::string, 0, std::string("a\0b\r\n", 5), 0,
       false},
      {"*0\r\n", kind::array, 0, "", 0, false},
      // An error inside an array (EXEC, MGET of odd keys) is left in the tree, not the response.
      {"*2\r\n-WRONGTYPE x\r\n$-1\r\n", kind::array, 0, "", 2, false},
      {"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:7\r\n", kind::array, 0, "", 1, false},
  };
  for (const auto& r : rows) {
    INFO(r.resp);
    auto resp = response(r.resp);
    CHECK(resp.reply.type == r.type);
    CHECK(resp.reply.integer == r.integer);
    CHECK(resp.reply.str == r.str);
    CHECK(resp.reply.elements.size() == r.elements);
    CHECK((resp.ec == errc::server_error) == r.server_error);
    CHECK(resp.ok() == !r.server_error);
  }
  // Eight nested arrays are hiredis 0.14's limit (its message says "depth > 7", counting from
  // 0): deeper is a protocol error, never a deeper tree, so to_reply's recursion is bounded.
  auto deep = response("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:8\r\n");
  const redis_reply* p = &deep.reply;
  for (int i = 0; i < 8; ++i) {
    REQUIRE(p->is_array());
    REQUIRE(p->elements.size() == 1);
    p = &p->elements[0];
  }
  CHECK(p->integer == 8);
  std::string error;
  CHECK(
      read_replies("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:9\r\n", &error).empty());
  CHECK_THAT(error, Catch::Contains("depth"));
  // Integers beyond 64 bits and malformed lengths are protocol errors too.
  for (const char* bad : {":99999999999999999999\r\n", ":12a\r\n", "$abc\r\n", "*-2\r\n",
                          "*2147483648\r\n", "?\r\n"}) {
    INFO(bad);
    error.clear();
    CHECK(read_replies(bad, &error).empty());
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("parse_score: integral ms below 2^53, nothing else", "[keystore][replies]") {
  struct row {
    std::string resp;
    std::optional<std::int64_t> score;
  };
  const row rows[] = {
      {bulk("1714557600123"), 1714557600123},
      {bulk("-5"), -5},
      {bulk("0"), 0},
      {bulk("1.5"), 2},
      {bulk("2.4"), 2},
      {bulk("1e3"), 1000},
      {bulk("9007199254740992"), 9007199254740992},
      {bulk("9007199254740993"), std::nullopt},  // 2^53 + 1
      {bulk("9223372036854775807"), std::nullopt},
      {bulk("99999999999999999999"), std::nullopt},
      {bulk("1e300"), std::nullopt},  // llround would be unspecified
      {bulk("-1e300"), std::nullopt},
      {bulk("inf"), std::nullopt},
      {bulk("-inf"), std::nullopt},
      {bulk("nan"), std::nullopt},
      {bulk("12abc"), std::nullopt},
      {bulk(" 12"), std::nullopt},
      {bulk("0x10"), std::nullopt},
      {bulk("+5"), std::nullopt},
      {bulk(std::string("12\0"
                        "3",
                        4)),
       std::nullopt},
      {bulk(""), std::nullopt},
      {":5\r\n", std::nullopt},  // a score is a bulk string, never an integer reply
      {"+5\r\n", std::nullopt},
      {"$-1\r\n", std::nullopt},
      {"-ERR x\r\n", std::nullopt},
      {"*1\r\n$1\r\n5\r\n", std::nullopt},
  };
  for (const auto& r : rows) {
    INFO(r.resp);
    CHECK(detail::parse_score(response(r.resp).reply) == r.score);
  }
}

TEST_CASE("create_outcome / update_outcome: only the script's answers count",
          "[keystore][replies]") {
  struct row {
    std::string resp;
    error_code create, update;
  };
  const row rows[] = {
      {":1\r\n", {}, {}},
      {":0\r\n", ec(errc::key_exists), ec(errc::key_not_found)},
      {":-1\r\n", ec(errc::unexpected_reply), ec(errc::version_conflict)},
      {":-2\r\n", ec(errc::unexpected_reply), ec(errc::invalid_record)},
      {":-3\r\n", ec(errc::unexpected_reply), ec(errc::corrupt_record)},
      {":2\r\n", ec(errc::unexpected_reply), ec(errc::unexpected_reply)},
      {":9223372036854775807\r\n", ec(errc::unexpected_reply), ec(errc::unexpected_reply)},
      {":-9223372036854775808\r\n", ec(errc::unexpected_reply), ec(errc::unexpected_reply)},
      {"+OK\r\n", ec(errc::unexpected_reply), ec(errc::unexpected_reply)},
      {bulk("1"), ec(errc::unexpected_reply), ec(errc::unexpected_reply)},
      {"$-1\r\n", ec(errc::unexpected_reply), ec(errc::unexpected_reply)},
      {"*1\r\n:1\r\n", ec(errc::unexpected_reply), ec(errc::unexpected_reply)},
      {"-NOSCRIPT x\r\n", ec(errc::server_error), ec(errc::server_error)},
      {"-BUSY Redis is busy running a script\r\n", ec(errc::server_error), ec(errc::server_error)},
  };
  for (const auto& r : rows) {
    INFO(r.resp);
    auto resp = response(r.resp);
    auto c = detail::create_outcome(resp);
    CHECK((c ? error_code{} : c.error()) == r.create);
    CHECK(detail::update_outcome(resp) == r.update);
  }
  // Transport outcomes pass through unchanged.
  redis_response down;
  down.ec = errc::disconnected;
  CHECK(detail::create_outcome(down).error() == errc::disconnected);
  CHECK(detail::update_outcome(down) == errc::disconnected);
}

TEST_CASE("string_array: SMEMBERS / ZRANGE answers", "[keystore][replies]") {
  auto ok = detail::string_array(response(array({bulk(id_a), bulk(""), bulk(id_b)})));
  REQUIRE(ok.has_value());
  CHECK(*ok == std::vector<std::string>{id_a, "", id_b});
  CHECK(detail::string_array(response("*0\r\n"))->empty());
  struct row {
    std::string resp;
    error_code error;
  };
  const row rows[] = {
      {array({bulk(id_a), "$-1\r\n"}), ec(errc::unexpected_reply)},
      {array({bulk(id_a), ":1\r\n"}), ec(errc::unexpected_reply)},
      {array({bulk(id_a), "+OK\r\n"}), ec(errc::unexpected_reply)},
      {array({array({bulk(id_a)})}), ec(errc::unexpected_reply)},
      {array({"-ERR x\r\n"}), ec(errc::unexpected_reply)},
      {"$-1\r\n", ec(errc::unexpected_reply)},
      {"*-1\r\n", ec(errc::unexpected_reply)},
      {bulk(id_a), ec(errc::unexpected_reply)},
      {":3\r\n", ec(errc::unexpected_reply)},
      {"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n",
       ec(errc::server_error)},
  };
  for (const auto& r : rows) {
    INFO(r.resp);
    auto got = detail::string_array(response(r.resp));
    REQUIRE_FALSE(got.has_value());
    CHECK(got.error() == r.error);
  }
}

TEST_CASE("get_outcome: a record, no record, or an error; never a foreign record",
          "[keystore][replies]") {
  const std::string rec = record_json(id_a);
  const std::string score = bulk("1700000009000");
  struct row {
    std::string record, score;
    error_code error;  // when failing
    bool found;        // when not
    std::optional<std::int64_t> last_used;
  };
  const row rows[] = {
      {bulk(rec), score, {}, true, 1700000009000},
      {bulk(rec), "$-1\r\n", {}, true, std::nullopt},     // never used
      {bulk(rec), "-ERR x\r\n", {}, true, std::nullopt},  // ZSCORE failed: no last_used
      {bulk(rec), bulk("garbage"), {}, true, std::nullopt},
      {bulk(rec), ":5\r\n", {}, true, std::nullopt},
      {"$-1\r\n", score, {}, false, std::nullopt},
      {bulk(record_json(id_b)), score, ec(errc::corrupt_record), false, std::nullopt},
      {bulk(rec.substr(0, rec.size() / 2)), score, ec(errc::corrupt_record), false, std::nullopt},
      {bulk(""), score, ec(errc::corrupt_record), false, std::nullopt},
      {bulk("[]"), score, ec(errc::corrupt_record), false, std::nullopt},
      {bulk("{\"id\":\"" + id_a + "\"}"), score, ec(errc::corrupt_record), false, std::nullopt},
      {":1\r\n", score, ec(errc::unexpected_reply), false, std::nullopt},
      {"+OK\r\n", score, ec(errc::unexpected_reply), false, std::nullopt},
      {array({bulk(rec)}), score, ec(errc::unexpected_reply), false, std::nullopt},
      {"-WRONGTYPE x\r\n", score, ec(errc::server_error), false, std::nullopt},
  };
  for (const auto& r : rows) {
    INFO(r.record << " / " << r.score);
    auto got = detail::get_outcome(response(r.record), response(r.score), id_a);
    if (r.error) {
      REQUIRE_FALSE(got.has_value());
      CHECK(got.error() == r.error);
      continue;
    }
    REQUIRE(got.has_value());
    REQUIRE(got->has_value() == r.found);
    if (!r.found) continue;
    CHECK((*got)->id == id_a);
    CHECK((*got)->last_used == r.last_used);
  }
  redis_response down;
  down.ec = errc::timeout;
  CHECK(detail::get_outcome(down, response(score), id_a).error() == errc::timeout);
}

TEST_CASE("get_many_outcome: found records in order, everything odd skipped",
          "[keystore][replies]") {
  const std::vector<std::string> ids{id_a,
                                     id_b,
                                     "CCCCCCCCCCCCCCCCCCCC",
                                     "DDDDDDDDDDDDDDDDDDDD",
                                     "EEEEEEEEEEEEEEEEEEEE",
                                     "FFFFFFFFFFFFFFFFFFFF",
                                     "GGGGGGGGGGGGGGGGGGGG"};
  const std::string b_rec = record_json(id_b);
  const std::string records = array({
      bulk(record_json(id_a)), bulk(b_rec),
      "$-1\r\n",                                           // missing
      bulk(record_json(id_a)),                             // someone else's record under D's key
      bulk(b_rec.substr(0, 30)),                           // truncated
      array({bulk(record_json("FFFFFFFFFFFFFFFFFFFF"))}),  // nested array
      "-WRONGTYPE x\r\n",                                  // nested error
  });
  const std::string scores = array(
      {bulk("1700000001000"), bulk("inf"), "$-1\r\n", bulk("1"), bulk("2"), bulk("3"), bulk("4")});
  auto got = detail::get_many_outcome(response(records), response(scores), ids);
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 2);
  CHECK((*got)[0].id == id_a);
  CHECK((*got)[0].last_used == 1700000001000);
  CHECK((*got)[1].id == id_b);
  CHECK((*got)[1].last_used == std::nullopt);

  // Scores of the wrong shape only cost last_used.
  for (const std::string& bad :
       {std::string("-ERR x\r\n"), std::string("$-1\r\n"), array({bulk("1")})}) {
    auto g = detail::get_many_outcome(response(records), response(bad), ids);
    REQUIRE(g.has_value());
    REQUIRE(g->size() == 2);
    CHECK((*g)[0].last_used == std::nullopt);
  }
  // Records of the wrong shape are the error of the whole read.
  const std::vector<std::string> two{id_a, id_b};
  struct row {
    std::string resp;
    error_code error;
  };
  const row rows[] = {
      {array({bulk(record_json(id_a))}), ec(errc::unexpected_reply)},  // one short
      {array({bulk(record_json(id_a)), "$-1\r\n", "$-1\r\n"}), ec(errc::unexpected_reply)},
      {"$-1\r\n", ec(errc::unexpected_reply)},
      {"*-1\r\n", ec(errc::unexpected_reply)},
      {bulk(record_json(id_a)), ec(errc::unexpected_reply)},
      {":2\r\n", ec(errc::unexpected_reply)},
      {"-ERR x\r\n", ec(errc::server_error)},
  };
  for (const auto& r : rows) {
    INFO(r.resp);
    auto g = detail::get_many_outcome(response(r.resp), response(scores), two);
    REQUIRE_FALSE(g.has_value());
    CHECK(g.error() == r.error);
  }
}

TEST_CASE("invalidate_read / invalidate_written: every id lands in exactly one place",
          "[keystore][replies]") {
  const std::vector<std::string> pending{id_a,
                                         id_b,
                                         "CCCCCCCCCCCCCCCCCCCC",
                                         "DDDDDDDDDDDDDDDDDDDD",
                                         "EEEEEEEEEEEEEEEEEEEE",
                                         "FFFFFFFFFFFFFFFFFFFF"};
  const std::string mget = array({
      bulk(record_json(id_a)),
      "$-1\r\n",
      bulk(record_json("CCCCCCCCCCCCCCCCCCCC", true)),
      bulk(record_json(id_a)),  // foreign record
      ":1\r\n",
      bulk(record_json("FFFFFFFFFFFFFFFFFFFF")),
  });
  invalidate_result out;
  auto read = detail::invalidate_read(response(mget), pending, 1700000002000, out);
  REQUIRE(read.has_value());
  REQUIRE(read->size() == 2);
  CHECK((*read)[0].id == id_a);
  CHECK((*read)[1].id == "FFFFFFFFFFFFFFFFFFFF");
  for (const auto& r : *read) {
    CHECK(r.invalidated);
    CHECK(r.invalidation == 1700000002000);
  }
  CHECK(out.not_found == std::vector<std::string>{id_b});
  CHECK(out.previously_invalidated == std::vector<std::string>{"CCCCCCCCCCCCCCCCCCCC"});
  REQUIRE(out.errors.size() == 2);
  CHECK(out.errors[0] == std::pair{std::string("DDDDDDDDDDDDDDDDDDDD"), ec(errc::corrupt_record)});
  CHECK(out.errors[1] == std::pair{std::string("EEEEEEEEEEEEEEEEEEEE"), ec(errc::corrupt_record)});
  CHECK(out.invalidated.empty());

  for (const std::string& bad : {array({"$-1\r\n"}), std::string("-ERR x\r\n"),
                                 std::string("$-1\r\n"), std::string(":6\r\n")}) {
    INFO(bad);
    invalidate_result o;
    CHECK_FALSE(detail::invalidate_read(response(bad), pending, 1, o).has_value());
  }

  // The update scripts' answers, one missing at the end.
  std::vector<key_record> written(6);
  const char* names[] = {"A", "B", "C", "D", "E", "F"};
  for (std::size_t i = 0; i < written.size(); ++i) written[i].id = names[i];
  std::vector<redis_response> rs;
  for (const char* r : {":1\r\n", ":-1\r\n", ":0\r\n", "-ERR x\r\n", ":7\r\n"})
    rs.push_back(response(r));
  invalidate_result w;
  auto again = detail::invalidate_written(rs, written, w);
  CHECK(again == std::vector<std::string>{"B"});
  CHECK(w.invalidated == std::vector<std::string>{"A"});
  CHECK(w.not_found == std::vector<std::string>{"C"});
  REQUIRE(w.errors.size() == 3);
  CHECK(w.errors[0] == std::pair{std::string("D"), ec(errc::server_error)});
  CHECK(w.errors[1] == std::pair{std::string("E"), ec(errc::unexpected_reply)});
  CHECK(w.errors[2] == std::pair{std::string("F"), ec(errc::unexpected_reply)});
}

TEST_CASE("decode_subscriber_reply: subscribe confirmations and messages only",
          "[keystore][replies]") {
  using k = subscriber_event::kind;
  struct row {
    std::string resp;
    k kind;
    std::string payload;
  };
  const std::string binary("id\0with\r\nbytes\xff", 15);
  const row rows[] = {
      {array({bulk("subscribe"), bulk("esgate:events"), ":1\r\n"}), k::subscribed, ""},
      {array({bulk("message"), bulk("esgate:events"), bulk(id_a)}), k::message, id_a},
      {array({bulk("message"), bulk("esgate:events"), bulk("")}), k::message, ""},
      {array({bulk("message"), bulk("esgate:events"), bulk(binary)}), k::message, binary},
      {array({bulk("message"), bulk("esgate:events"), bulk("*"), bulk("extra")}), k::message, "*"},
      {array({bulk("message"), bulk("esgate:events"), ":1\r\n"}), k::ignored, ""},
      {array({bulk("message"), bulk("esgate:events"), "$-1\r\n"}), k::ignored, ""},
      {array({bulk("message"), bulk("esgate:events"), array({bulk(id_a)})}), k::ignored, ""},
      {array({bulk("message"), bulk("esgate:events")}), k::ignored, ""},
      {array({bulk("Message"), bulk("esgate:events"), bulk(id_a)}), k::ignored, ""},
      {array({bulk("pmessage"), bulk("*"), bulk("esgate:events"), bulk(id_a)}), k::ignored, ""},
      {array({bulk("unsubscribe"), bulk("esgate:events"), ":0\r\n"}), k::ignored, ""},
      {array({"+message\r\n", bulk("esgate:events"), bulk(id_a)}), k::ignored, ""},
      {array({":1\r\n", bulk("x"), bulk("y")}), k::ignored, ""},
      {array({"$-1\r\n", bulk("x"), bulk("y")}), k::ignored, ""},
      {array({"-ERR x\r\n", bulk("x"), bulk("y")}), k::ignored, ""},
      {"*0\r\n", k::ignored, ""},
      {"*-1\r\n", k::ignored, ""},
      {"+OK\r\n", k::ignored, ""},
      {"-NOPERM this user has no permissions to access one of the channels\r\n", k::ignored, ""},
      {bulk("message"), k::ignored, ""},
      {":3\r\n", k::ignored, ""},
  };
  for (const auto& r : rows) {
    INFO(r.resp);
    auto ev = decode_subscriber_reply(*raw_reply(r.resp));
    CHECK(ev.k == r.kind);
    CHECK(ev.payload == r.payload);
  }
}

TEST_CASE("handshake_error: AUTH and SELECT succeed only with +OK", "[keystore][replies]") {
  struct row {
    std::string resp;
    std::string error;
  };
  const row rows[] = {
      {"+OK\r\n", ""},
      {"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
       "WRONGPASS invalid username-password pair or user is disabled."},
      {"-ERR DB index is out of range\r\n", "ERR DB index is out of range"},
      {"-\r\n", "unexpected reply"},
      {"+QUEUED\r\n", "unexpected reply"},
      {"+ok\r\n", "unexpected reply"},
      {bulk("OK"), "unexpected reply"},
      {":1\r\n", "unexpected reply"},
      {"$-1\r\n", "unexpected reply"},
      {"*1\r\n+OK\r\n", "unexpected reply"},
  };
  for (const auto& r : rows) {
    INFO(r.resp);
    CHECK(handshake_error(*raw_reply(r.resp)) == r.error);
  }
}
