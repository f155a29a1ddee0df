// The flat head writers (wire.hpp). Every output is parsed back with Beast's own parser, so the
// tests check what an HTTP peer would see, not just our string; exact bytes where the contract
// fixes them.
#include "esgate/http/wire.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "esgate/http/es_error.hpp"

namespace http = esgate::http;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;

#include "http/make_fields.hpp"

namespace {

using http::test::field_list;
using http::test::make_fields;

// Parses a complete head; fails the test unless Beast consumes exactly all of it.
template <bool isRequest>
bhttp::message<isRequest, bhttp::empty_body> parse_head(const std::string& bytes) {
  bhttp::parser<isRequest, bhttp::empty_body> p;
  p.eager(false);
  boost::beast::error_code ec;
  auto n = p.put(asio::buffer(bytes), ec);
  INFO(bytes);
  REQUIRE_FALSE(ec);
  REQUIRE(p.is_header_done());
  CHECK(n == bytes.size());
  return p.release();
}

bhttp::request<bhttp::empty_body> parse_request_head(const std::string& bytes) {
  return parse_head<true>(bytes);
}

bhttp::response<bhttp::empty_body> parse_response_head(const std::string& bytes) {
  return parse_head<false>(bytes);
}

// Values of every field called `name` (any case), in order.
// Feeds a whole message; put() stops after the head and at chunk boundaries.
template <class Parser>
std::size_t put_all(Parser& p, const std::string& bytes) {
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (!p.is_done() && used < bytes.size()) {
    auto n = p.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    REQUIRE_FALSE(ec);
    if (n == 0) break;
    used += n;
  }
  return used;
}

template <class Fields>
std::vector<std::string> values(const Fields& f, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& field : f)
    if (boost::beast::iequals(field.name_string(), name)) out.emplace_back(field.value());
  return out;
}

template <class Fields>
std::vector<std::string> names(const Fields& f) {
  std::vector<std::string> out;
  for (const auto& field : f) out.emplace_back(field.name_string());
  return out;
}

using strings = std::vector<std::string>;

http::upstream_request_head standard_head(http::body_framing framing = {}) {
  http::upstream_request_head h;
  h.method = "GET";
  h.target = "/books/_search";
  h.authorization = "Basic Z2F0ZXdheTpzZWNyZXQ=";
  h.client_ip = "192.0.2.7";
  h.client_proto = "https";
  h.framing = framing;
  return h;
}

}  // namespace

// --- upstream request head -------------------------------------------------------------------

TEST_CASE("upstream head: exact bytes for an ordinary request", "[wire]") {
  auto client =
      make_fields({{"Host", "es.example:9200"},
                   {"X-Opaque-Id", "req-1"},
                   {"traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
                   {"Accept", "application/json"},
                   {"Content-Type", "application/json"},
                   {"Content-Length", "17"}});
  auto h = standard_head(http::body_framing::of_length(17));
  h.method = "POST";
  std::string out = "prefix|";  // appends, never clears
  http::append_upstream_request_head(out, client, h);
  CHECK(out ==
        "prefix|"
        "POST /books/_search HTTP/1.1\r\n"
        "Host: es.example:9200\r\n"
        "X-Opaque-Id: req-1\r\n"
        "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n"
        "Accept: application/json\r\n"
        "Content-Type: application/json\r\n"
        "Authorization: Basic Z2F0ZXdheTpzZWNyZXQ=\r\n"
        "X-Forwarded-For: 192.0.2.7\r\n"
        "X-Forwarded-Proto: https\r\n"
        "Content-Length: 17\r\n"
        "\r\n");

  auto req = parse_request_head(out.substr(7));
  CHECK(req.method() == bhttp::verb::post);
  CHECK(req.target() == "/books/_search");
  CHECK(req.version() == 11);
  CHECK(names(req) == strings{"Host", "X-Opaque-Id", "traceparent", "Accept", "Content-Type",
                              "Authorization", "X-Forwarded-For", "X-Forwarded-Proto",
                              "Content-Length"});
}

TEST_CASE("upstream head: client identity headers never pass, whatever their case", "[wire]") {
  auto client = make_fields({{"Host", "es"},
                             {"aUtHoRiZaTiOn", "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="},
                             {"Authorization", "ApiKey c3B5"},
                             {"es-security-runas-user", "elastic"},
                             {"ES-SECURITY-RUNAS-USER", "elastic"},
                             {"X-Forwarded-For", "127.0.0.1"},
                             {"x-forwarded-for", "10.0.0.1, 10.0.0.2"},
                             {"X-FORWARDED-PROTO", "http"},
                             {"X-Forwarded-Host", "internal"},
                             {"X-Forwarded-User", "admin"},
                             {"Forwarded", "for=127.0.0.1;proto=https"},
                             {"X-Real-IP", "127.0.0.1"},
                             {"X-Remote-User", "admin"},
                             {"sg_impersonate_as", "admin"},
                             {"opendistro_security_impersonate_as", "admin"},
                             {"Accept", "*/*"}});
  std::string out;
  http::append_upstream_request_head(out, client, standard_head());
  auto req = parse_request_head(out);

  CHECK(values(req, "Authorization") == strings{"Basic Z2F0ZXdheTpzZWNyZXQ="});
  CHECK(values(req, "X-Forwarded-For") == strings{"192.0.2.7"});
  CHECK(values(req, "X-Forwarded-Proto") == strings{"https"});
  for (const char* name :
       {"es-security-runas-user", "X-Forwarded-Host", "X-Forwarded-User", "Forwarded", "X-Real-IP",
        "X-Remote-User", "sg_impersonate_as", "opendistro_security_impersonate_as"}) {
    INFO(name);
    CHECK(values(req, name).empty());
  }
  CHECK(names(req) ==
        strings{"Host", "Accept", "Authorization", "X-Forwarded-For", "X-Forwarded-Proto"});
  // Nothing the client sent for these survives anywhere in the bytes.
  CHECK(out.find("ZWxhc3RpYzpjaGFuZ2VtZQ") == std::string::npos);
  CHECK(out.find("127.0.0.1") == std::string::npos);
  CHECK(out.find("admin") == std::string::npos);
}

TEST_CASE("upstream head: no configured credentials means no Authorization at all", "[wire]") {
  auto client = make_fields({{"Host", "es"}, {"Authorization", "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="}});
  auto h = standard_head();
  h.authorization = {};
  std::string out;
  http::append_upstream_request_head(out, client, h);
  auto req = parse_request_head(out);
  CHECK(values(req, "Authorization").empty());
  CHECK(values(req, "X-Forwarded-For") == strings{"192.0.2.7"});
}

TEST_CASE("upstream head: hop-by-hop, Connection-named and Expect fields are dropped", "[wire]") {
  auto client = make_fields({{"Host", "es"},
                             {"Connection", "close, X-Secret"},
                             {"X-Secret", "s3cr3t"},
                             {"connection", "x-other"},
                             {"X-OTHER", "o"},
                             {"Keep-Alive", "timeout=5"},
                             {"TE", "trailers"},
                             {"Trailer", "X-Checksum"},
                             {"Upgrade", "websocket"},
                             {"Proxy-Authorization", "Basic cHJveHk6cHc="},
                             {"Proxy-Connection", "keep-alive"},
                             {"Proxy-Authenticate", "Basic"},
                             {"Expect", "100-continue"},
                             {"X-Secret-Not", "kept"},
                             {"Accept", "application/json"}});
  std::string out;
  http::append_upstream_request_head(out, client, standard_head());
  auto req = parse_request_head(out);
  CHECK(names(req) == strings{"Host", "X-Secret-Not", "Accept", "Authorization", "X-Forwarded-For",
                              "X-Forwarded-Proto"});
  CHECK(out.find("s3cr3t") == std::string::npos);
  CHECK(out.find("cHJveHk6cHc=") == std::string::npos);
  CHECK(out.find("100-continue") == std::string::npos);
}

TEST_CASE("upstream head: client framing is never copied, only the given framing", "[wire]") {
  auto client = make_fields({{"Host", "es"},
                             {"Content-Length", "999"},
                             {"content-length", "5"},
                             {"Transfer-Encoding", "chunked"},
                             {"TRANSFER-ENCODING", "gzip"}});

  SECTION("no body") {
    std::string out;
    http::append_upstream_request_head(out, client, standard_head(http::body_framing::no_body()));
    auto req = parse_request_head(out);
    CHECK(values(req, "Content-Length").empty());
    CHECK(values(req, "Transfer-Encoding").empty());
    CHECK_FALSE(req.has_content_length());
    CHECK_FALSE(req.chunked());
  }
  SECTION("length") {
    std::string out;
    http::append_upstream_request_head(out, client,
                                       standard_head(http::body_framing::of_length(42)));
    auto req = parse_request_head(out);
    CHECK(values(req, "Content-Length") == strings{"42"});
    CHECK(values(req, "Transfer-Encoding").empty());
  }
  SECTION("zero length") {
    std::string out;
    http::append_upstream_request_head(out, client,
                                       standard_head(http::body_framing::of_length(0)));
    auto req = parse_request_head(out);
    CHECK(values(req, "Content-Length") == strings{"0"});
  }
  SECTION("huge length") {
    std::string out;
    const auto max = std::numeric_limits<std::uint64_t>::max();
    http::append_upstream_request_head(out, client,
                                       standard_head(http::body_framing::of_length(max)));
    CHECK(out.find("\r\nContent-Length: 18446744073709551615\r\n") != std::string::npos);
  }
  SECTION("chunked") {
    std::string out;
    http::append_upstream_request_head(out, client, standard_head(http::body_framing::chunked()));
    auto req = parse_request_head(out);
    CHECK(values(req, "Transfer-Encoding") == strings{"chunked"});
    CHECK(values(req, "Content-Length").empty());
    CHECK(req.chunked());
  }
}

TEST_CASE("upstream head: values and repeated fields are kept byte for byte", "[wire]") {
  auto client = make_fields({{"Host", "es"},
                             {"Accept", "text/plain"},
                             {"X-Thing", "a\tb  c"},
                             {"Accept", "application/json"},
                             {"X-Utf8", "caf\xc3\xa9"},
                             {"X-Empty", ""}});
  std::string out;
  http::append_upstream_request_head(out, client, standard_head());
  auto req = parse_request_head(out);
  CHECK(values(req, "Accept") == strings{"text/plain", "application/json"});
  CHECK(values(req, "X-Thing") == strings{"a\tb  c"});
  CHECK(values(req, "X-Utf8") == strings{"caf\xc3\xa9"});
  CHECK(values(req, "X-Empty") == strings{""});
}

// --- client response head --------------------------------------------------------------------

TEST_CASE("response head: exact bytes, standard phrase, hop-by-hop dropped", "[wire]") {
  auto upstream = make_fields({{"X-elastic-product", "Elasticsearch"},
                               {"content-type", "application/json"},
                               {"Connection", "keep-alive, X-Hop"},
                               {"X-Hop", "1"},
                               {"Keep-Alive", "timeout=60"},
                               {"Content-Length", "123"},
                               {"Warning", "299 Elasticsearch \"deprecated\""}});
  http::client_response_head h;
  h.framing = http::body_framing::of_length(123);
  std::string out;
  http::append_client_response_head(out, upstream, h);
  CHECK(out ==
        "HTTP/1.1 200 OK\r\n"
        "X-elastic-product: Elasticsearch\r\n"
        "content-type: application/json\r\n"
        "Warning: 299 Elasticsearch \"deprecated\"\r\n"
        "Content-Length: 123\r\n"
        "\r\n");
  auto res = parse_response_head(out);
  CHECK(res.result_int() == 200);
  CHECK(res.version() == 11);
  CHECK(res.keep_alive());
}

TEST_CASE("response head: status line phrase", "[wire]") {
  const http::fields none;
  auto line = [&](unsigned status, std::string_view reason, unsigned version) {
    http::client_response_head h;
    h.status = status;
    h.reason = reason;
    h.version = version;
    std::string out;
    http::append_client_response_head(out, none, h);
    return out.substr(0, out.find("\r\n"));
  };
  CHECK(line(200, "", 11) == "HTTP/1.1 200 OK");
  CHECK(line(404, "", 11) == "HTTP/1.1 404 Not Found");
  CHECK(line(404, "", 10) == "HTTP/1.0 404 Not Found");
  CHECK(line(429, "", 11) == "HTTP/1.1 429 Too Many Requests");
  CHECK(line(503, "", 11) == "HTTP/1.1 503 Service Unavailable");
  CHECK(line(200, "Fine Thanks", 11) == "HTTP/1.1 200 Fine Thanks");
  // A status Beast does not know, without a phrase from the upstream: an empty phrase (allowed
  // by RFC 9112), not Beast's "<unknown-status>".
  CHECK(line(299, "", 11) == "HTTP/1.1 299 ");
  CHECK(line(299, "Custom", 11) == "HTTP/1.1 299 Custom");
}

TEST_CASE("response head: Connection follows the client's version and keep-alive", "[wire]") {
  // Whatever the upstream said about its own connection.
  auto upstream = make_fields({{"Connection", "close"}, {"Content-Type", "application/json"}});
  auto run = [&](unsigned version, bool keep_alive) {
    http::client_response_head h;
    h.version = version;
    h.keep_alive = keep_alive;
    h.framing = http::body_framing::of_length(0);
    std::string out;
    http::append_client_response_head(out, upstream, h);
    return out;
  };

  SECTION("1.1 keep-alive: default, no Connection") {
    auto out = run(11, true);
    auto res = parse_response_head(out);
    CHECK(values(res, "Connection").empty());
    CHECK(res.keep_alive());
  }
  SECTION("1.1 close") {
    auto out = run(11, false);
    auto res = parse_response_head(out);
    CHECK(values(res, "Connection") == strings{"close"});
    CHECK_FALSE(res.keep_alive());
  }
  SECTION("1.0 keep-alive") {
    auto out = run(10, true);
    CHECK(out.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
    auto res = parse_response_head(out);
    CHECK(res.version() == 10);
    CHECK(values(res, "Connection") == strings{"keep-alive"});
    CHECK(res.keep_alive());
  }
  SECTION("1.0 close: default, no Connection") {
    auto out = run(10, false);
    auto res = parse_response_head(out);
    CHECK(values(res, "Connection").empty());
    CHECK_FALSE(res.keep_alive());
  }
}

TEST_CASE("response head: framing is re-made, never copied", "[wire]") {
  auto upstream = make_fields({{"Transfer-Encoding", "chunked"},
                               {"Content-Length", "10"},
                               {"Trailer", "X-Sum"},
                               {"Content-Type", "application/json"}});
  SECTION("chunked") {
    http::client_response_head h;
    h.framing = http::body_framing::chunked();
    std::string out;
    http::append_client_response_head(out, upstream, h);
    CHECK(out ==
          "HTTP/1.1 200 OK\r\n"
          "Content-Type: application/json\r\n"
          "Transfer-Encoding: chunked\r\n"
          "\r\n");
    auto res = parse_response_head(out);
    CHECK(res.chunked());
  }
  SECTION("length") {
    http::client_response_head h;
    h.framing = http::body_framing::of_length(7);
    std::string out;
    http::append_client_response_head(out, upstream, h);
    auto res = parse_response_head(out);
    CHECK(values(res, "Content-Length") == strings{"7"});
    CHECK(values(res, "Transfer-Encoding").empty());
    CHECK(values(res, "Trailer").empty());
  }
  SECTION("none") {
    http::client_response_head h;
    h.status = 304;
    std::string out;
    http::append_client_response_head(out, upstream, h);
    CHECK(out == "HTTP/1.1 304 Not Modified\r\nContent-Type: application/json\r\n\r\n");
  }
}

// --- whole gateway responses -----------------------------------------------------------------

TEST_CASE("gateway response: exact bytes of an ES error", "[wire]") {
  auto r = http::es_error(404, "resource_not_found_exception", "nope");
  std::string out;
  http::append_gateway_response(out, r, 11, true, false);
  CHECK(out ==
        "HTTP/1.1 404 Not Found\r\n"
        "X-Elastic-Product: Elasticsearch\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: " +
            std::to_string(r.body.size()) +
            "\r\n"
            "\r\n" +
            r.body);
}

TEST_CASE("gateway response: Content-Length matches the body and the body follows", "[wire]") {
  auto r = http::unauthenticated("missing authentication credentials for REST request [/]");
  std::string out;
  http::append_gateway_response(out, r, 11, true, false);

  bhttp::response_parser<bhttp::string_body> p;
  REQUIRE(put_all(p, out) == out.size());
  REQUIRE(p.is_done());
  auto res = p.release();
  CHECK(res.result_int() == 401);
  CHECK(res.body() == r.body);
  CHECK(values(res, "Content-Length") == strings{std::to_string(r.body.size())});
  CHECK(values(res, "WWW-Authenticate") ==
        strings{R"(Basic realm="security", charset="UTF-8")", "ApiKey"});
  CHECK(values(res, "X-Elastic-Product") == strings{"Elasticsearch"});
  CHECK(values(res, "Connection").empty());
}

TEST_CASE("gateway response: HEAD keeps Content-Length but sends no body", "[wire]") {
  auto r = http::forbidden("no");
  REQUIRE_FALSE(r.body.empty());
  std::string out;
  http::append_gateway_response(out, r, 11, true, true);
  CHECK(out.size() >= 4);
  CHECK(out.compare(out.size() - 4, 4, "\r\n\r\n") == 0);
  CHECK(out.find(r.body) == std::string::npos);

  bhttp::response_parser<bhttp::empty_body> p;
  p.skip(true);  // a response to HEAD
  boost::beast::error_code ec;
  auto n = p.put(asio::buffer(out), ec);
  REQUIRE_FALSE(ec);
  CHECK(p.is_done());
  CHECK(n == out.size());
  CHECK(values(p.get(), "Content-Length") == strings{std::to_string(r.body.size())});
}

TEST_CASE("gateway response: empty body has Content-Length 0", "[wire]") {
  http::gateway_response r;
  r.status = 200;
  std::string out;
  http::append_gateway_response(out, r, 11, true, false);
  CHECK(out == "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("gateway response: Connection from version, keep-alive and r.close", "[wire]") {
  auto connection = [](unsigned version, bool keep_alive, bool close) {
    http::gateway_response r = http::es_error(400, "x", "y");
    r.close = close;
    std::string out;
    http::append_gateway_response(out, r, version, keep_alive, false);
    auto head = out.substr(0, out.find("\r\n\r\n") + 4);
    auto res = parse_response_head(head);
    return std::make_pair(values(res, "Connection"), res.keep_alive());
  };
  CHECK(connection(11, true, false) == std::make_pair(strings{}, true));
  CHECK(connection(11, true, true) == std::make_pair(strings{"close"}, false));
  CHECK(connection(11, false, false) == std::make_pair(strings{"close"}, false));
  CHECK(connection(10, true, false) == std::make_pair(strings{"keep-alive"}, true));
  CHECK(connection(10, true, true) == std::make_pair(strings{}, false));
  CHECK(connection(10, false, false) == std::make_pair(strings{}, false));
}

TEST_CASE("gateway response: status line for an HTTP/1.0 client", "[wire]") {
  auto r = http::es_error(429, "es_rejected_execution_exception", "slow down");
  std::string out;
  http::append_gateway_response(out, r, 10, false, false);
  CHECK(out.rfind("HTTP/1.0 429 Too Many Requests\r\n", 0) == 0);
}

// --- chunk sizes ------------------------------------------------------------------------------

TEST_CASE("append_chunk_size writes lowercase hex and CRLF", "[wire]") {
  auto chunk = [](std::size_t n) {
    std::string out;
    http::append_chunk_size(out, n);
    return out;
  };
  CHECK(chunk(0) == "0\r\n");
  CHECK(chunk(1) == "1\r\n");
  CHECK(chunk(10) == "a\r\n");
  CHECK(chunk(255) == "ff\r\n");
  CHECK(chunk(4096) == "1000\r\n");
  CHECK(chunk(std::numeric_limits<std::size_t>::max()) == "ffffffffffffffff\r\n");

  std::string out = "x";
  http::append_chunk_size(out, 16);
  CHECK(out == "x10\r\n");
}

TEST_CASE("append_chunk_size output is readable by a chunked parser", "[wire]") {
  std::string msg = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string a(255, 'a'), b(4097, 'b');
  for (const auto* piece : {&a, &b}) {
    http::append_chunk_size(msg, piece->size());
    msg += *piece + "\r\n";
  }
  http::append_chunk_size(msg, 0);
  msg += "\r\n";

  bhttp::response_parser<bhttp::string_body> p;
  CHECK(put_all(p, msg) == msg.size());
  REQUIRE(p.is_done());
  CHECK(p.get().body() == a + b);
}
