#include "esgate/observability/audit.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>
#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "esgate/observability/metrics.hpp"

namespace obs = esgate::observability;

namespace {

std::string json_string(std::string_view s) {
  std::string out;
  obs::append_json_string(out, s);
  return out;
}

// The escaped form must parse back as JSON (valid UTF-8 included) to `expected`.
void check_escape(std::string_view input, std::string_view escaped, std::string_view expected) {
  INFO("input of " << input.size() << " bytes");
  const auto out = json_string(input);
  CHECK(out == escaped);
  boost::system::error_code ec;
  auto v = boost::json::parse(out, ec);
  REQUIRE_FALSE(ec);
  REQUIRE(v.is_string());
  CHECK(std::string_view(v.get_string()) == expected);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("JSON strings escape hostile input", "[observability][audit]") {
  using namespace std::string_literals;
  check_escape("plain", "\"plain\"", "plain");
  check_escape("a\"b", R"("a\"b")", "a\"b");
  check_escape("a\\b", R"("a\\b")", "a\\b");
  check_escape("l1\nl2\r\t", R"("l1\nl2\r\t")", "l1\nl2\r\t");
  check_escape("\x01\x1f\x7f"s, R"("\u0001\u001f\u007f")", "\x01\x1f\x7f");
  check_escape("nul\0x"s, R"("nul\u0000x")", "nul\0x"s);
  check_escape("caf\xc3\xa9", "\"caf\xc3\xa9\"", "caf\xc3\xa9");                 // valid 2 bytes
  check_escape("\xf0\x9f\x94\x91", "\"\xf0\x9f\x94\x91\"", "\xf0\x9f\x94\x91");  // valid 4 bytes
  // Invalid UTF-8: each bad byte becomes U+FFFD.
  const std::string fffd = "\xef\xbf\xbd";
  check_escape("\xff", "\"" + fffd + "\"", fffd);
  check_escape("a\xc3", "\"a" + fffd + "\"", "a" + fffd);            // truncated
  check_escape("\xc0\xaf", "\"" + fffd + fffd + "\"", fffd + fffd);  // overlong '/'
  check_escape("\xed\xa0\x80", "\"" + fffd + fffd + fffd + "\"", fffd + fffd + fffd);  // surrogate
  check_escape("\xf4\x90\x80\x80", "\"" + fffd + fffd + fffd + fffd + "\"",
               fffd + fffd + fffd + fffd);  // above U+10FFFF
  check_escape("\"}\n{\"event.action\":\"forged", R"("\"}\n{\"event.action\":\"forged")",
               "\"}\n{\"event.action\":\"forged");
}

TEST_CASE("an audit record is one line of JSON with ES's field names", "[observability][audit]") {
  const std::vector<std::string> roles{"books-read-only"};
  const std::vector<std::string> indices{"books", "logs-\"x\""};
  obs::audit_record r;
  r.event = obs::audit_event::access_denied;
  r.time_us = 1'700'000'000'123'456;
  r.request_id = "rid-1";
  r.opaque_id = "my\nopaque";
  r.origin_address = "127.0.0.1";
  r.method = "GET";
  r.url_path = "/books/_search";
  r.authentication_type = "REALM";
  r.user = "al\"ice";
  r.realm = "default_file";
  r.roles = roles;
  r.action = "indices:data/read/search";
  r.indices = indices;
  r.decision = "deny";
  r.reason = "action [x] is unauthorized";
  r.status = 403;
  std::string line;
  obs::append_audit_json(line, r);
  REQUIRE(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  auto v = boost::json::parse(line);
  auto& o = v.as_object();
  CHECK(o.at("@timestamp").as_string() == "2023-11-14T22:13:20.123456Z");
  CHECK(o.at("type").as_string() == "audit");
  CHECK(o.at("event.type").as_string() == "transport");
  CHECK(o.at("event.action").as_string() == "access_denied");
  CHECK(o.at("user.name").as_string() == "al\"ice");
  CHECK(o.at("user.realm").as_string() == "default_file");
  CHECK(o.at("user.roles").as_array().size() == 1);
  CHECK(o.at("origin.address").as_string() == "127.0.0.1");
  CHECK(o.at("url.path").as_string() == "/books/_search");
  CHECK(o.at("request.method").as_string() == "GET");
  CHECK(o.at("request.id").as_string() == "rid-1");
  CHECK(o.at("opaque_id").as_string() == "my\nopaque");
  CHECK(o.at("action").as_string() == "indices:data/read/search");
  CHECK(o.at("indices").as_array().at(1).as_string() == "logs-\"x\"");
  CHECK(o.at("http.status").as_int64() == 403);
  CHECK_FALSE(o.contains("authentication.api_key.id"));  // empty fields are left out
}

TEST_CASE("security_config_change names the change", "[observability][audit]") {
  const std::vector<std::string> ids{"abc"};
  obs::audit_record r;
  r.event = obs::audit_event::security_config_change;
  r.change = "create_apikey";
  r.outcome = "success";
  r.api_key_ids = ids;
  std::string line;
  obs::append_audit_json(line, r);
  auto o = boost::json::parse(line).as_object();
  CHECK(o.at("event.type").as_string() == "security_config_change");
  CHECK(o.at("event.action").as_string() == "create_apikey");
  CHECK(o.at("event.outcome").as_string() == "success");
  CHECK(o.at("apikey.ids").as_array().at(0).as_string() == "abc");
}

TEST_CASE("event names round-trip and the default set is ES's", "[observability][audit]") {
  for (unsigned i = 0; i < obs::audit_event_count; ++i) {
    const auto e = static_cast<obs::audit_event>(i);
    CHECK(obs::parse_audit_event(obs::to_string(e)) == e);
  }
  CHECK_FALSE(obs::parse_audit_event("access_granted_typo"));
  CHECK((obs::default_audit_events & obs::audit_bit(obs::audit_event::access_granted)) == 0);
  CHECK((obs::default_audit_events & obs::audit_bit(obs::audit_event::access_denied)) != 0);
}

TEST_CASE("access lines in JSON and logfmt", "[observability][access]") {
  obs::access_record r;
  r.time_us = 1'700'000'000'000'000;
  r.method = "GET";
  r.path = "/a b/_search";
  r.status = 200;
  r.bytes_out = 12;
  r.authn_us = 5;
  r.user = "alice";
  std::string json, text;
  obs::append_access_line(json, r, true);
  obs::append_access_line(text, r, false);
  auto o = boost::json::parse(json).as_object();
  CHECK(o.at("url.path").as_string() == "/a b/_search");
  CHECK(o.at("http.response.status_code").as_int64() == 200);
  CHECK(o.at("authn_us").as_int64() == 5);
  CHECK_FALSE(o.contains("upstream_us"));  // not measured
  CHECK(text ==
        "ts=2023-11-14T22:13:20.000000Z method=GET path=\"/a b/_search\" status=200 "
        "bytes_in=0 bytes_out=12 authn_us=5 user=alice\n");
}

TEST_CASE("the bounded queue refuses when full and keeps order", "[observability][queue]") {
  obs::bounded_queue<std::string> q(4);
  CHECK(q.capacity() == 4);
  for (int i = 0; i < 4; ++i) CHECK(q.try_push(std::to_string(i)));
  CHECK_FALSE(q.try_push("overflow"));
  std::string out;
  for (int i = 0; i < 4; ++i) {
    REQUIRE(q.try_pop(out));
    CHECK(out == std::to_string(i));
  }
  CHECK_FALSE(q.try_pop(out));
  CHECK(q.try_push("again"));
  REQUIRE(q.try_pop(out));
  CHECK(out == "again");
}

TEST_CASE("the bounded queue loses nothing it accepted across threads", "[observability][queue]") {
  obs::bounded_queue<int> q(64);
  constexpr int producers = 4, per = 20000;
  std::atomic<long> accepted_sum{0}, accepted{0};
  std::atomic<bool> done{false};
  long popped_sum = 0, popped = 0;
  std::thread consumer([&] {
    int v;
    for (;;) {
      if (q.try_pop(v)) {
        popped_sum += v;
        ++popped;
      } else if (done.load()) {
        while (q.try_pop(v)) {
          popped_sum += v;
          ++popped;
        }
        break;
      }
    }
  });
  std::vector<std::thread> ts;
  for (int p = 0; p < producers; ++p)
    ts.emplace_back([&, p] {
      for (int i = 0; i < per; ++i) {
        int v = p * per + i;
        if (q.try_push(std::move(v))) {
          accepted_sum += p * per + i;
          ++accepted;
        }
      }
    });
  for (auto& t : ts) t.join();
  done = true;
  consumer.join();
  CHECK(popped == accepted.load());
  CHECK(popped_sum == accepted_sum.load());
}

TEST_CASE("line_writer appends, drops when full without blocking, reopens by path",
          "[observability][queue]") {
  char tmpl[] = "/tmp/esgate-audit-test-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl, path = dir + "/audit.log", moved = dir + "/audit.log.1";
  // The drop hook is what the gateway points at the per-thread metrics; here a plain counter.
  static std::atomic<int> hooked{0};
  hooked = 0;
  {
    obs::line_writer w(path, 2, [] { ++hooked; });
    CHECK(w.offer("one\n"));
    w.flush();
    CHECK(read_file(path) == "one\n");
    // Rotation: the file is moved away, reopen() makes a new one at the path.
    REQUIRE(std::rename(path.c_str(), moved.c_str()) == 0);
    w.reopen();
    CHECK(w.offer("two\n"));
    w.flush();
    CHECK(read_file(moved) == "one\n");
    CHECK(read_file(path) == "two\n");
    // A flood: offer never blocks; what does not fit is counted.
    const auto start = std::chrono::steady_clock::now();
    int refused = 0;
    for (int i = 0; i < 100000; ++i)
      if (!w.offer("flood\n")) ++refused;
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK(refused > 0);
    CHECK(w.dropped() == static_cast<std::uint64_t>(refused));
    CHECK(hooked.load() == refused);
  }
  std::remove(path.c_str());
  std::remove(moved.c_str());
  rmdir(dir.c_str());
}
