// esgate-fuzz-deps: esgate::http
// Fuzzes the edge header path: Beast parses a request head, framing_problem screens it, and the
// upstream request head and the client response head are rebuilt from its fields. Whatever the
// client sent, the rebuilt heads must re-parse, carry only the gateway's identity and framing
// fields, and never split a line. Any violation traps.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/http/header_rules.hpp"
#include "esgate/http/wire.hpp"

namespace {

namespace bhttp = boost::beast::http;
namespace asio = boost::asio;
using boost::beast::iequals;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

constexpr std::string_view k_authorization = "Basic Z2F0ZXdheTpzZWNyZXQ=";
constexpr std::string_view k_client_ip = "192.0.2.7";
constexpr std::string_view k_client_proto = "https";
constexpr std::string_view k_target = "/books/_search";

constexpr std::string_view k_hop_by_hop[] = {"Connection",
                                             "Keep-Alive",
                                             "Proxy-Connection",
                                             "Proxy-Authenticate",
                                             "Proxy-Authorization",
                                             "TE",
                                             "Trailer",
                                             "Transfer-Encoding",
                                             "Upgrade"};

struct head_field {
  std::string_view name, value;
};

// Splits a head at CRLF; no line may hold another CR or LF, and only the last may be empty.
// Returns the fields (every line but the start line and the blank one).
std::vector<head_field> split_head(std::string_view head) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < head.size()) {
    const auto end = head.find("\r\n", pos);
    check(end != std::string_view::npos);
    const auto line = head.substr(pos, end - pos);
    check(line.find_first_of("\r\n") == std::string_view::npos);
    lines.push_back(line);
    pos = end + 2;
  }
  check(lines.size() >= 2 && lines.back().empty());
  std::vector<head_field> out;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    const auto line = lines[i];
    check(!line.empty());
    const auto colon = line.find(": ");
    check(colon != std::string_view::npos && colon > 0);
    head_field f{line.substr(0, colon), line.substr(colon + 2)};
    for (char c : f.value) {
      const auto u = static_cast<unsigned char>(c);
      check((u >= 0x20 || c == '\t') && u != 0x7f);
    }
    out.push_back(f);
  }
  return out;
}

std::size_t count(const std::vector<head_field>& fs, std::string_view name) {
  std::size_t n = 0;
  for (const auto& f : fs) n += iequals(f.name, name) ? 1 : 0;
  return n;
}

std::optional<std::string_view> only_value(const std::vector<head_field>& fs,
                                           std::string_view name) {
  std::optional<std::string_view> v;
  for (const auto& f : fs)
    if (iequals(f.name, name)) {
      check(!v);
      v = f.value;
    }
  return v;
}

std::vector<std::string> connection_tokens(const esgate::http::fields& f) {
  std::vector<std::string> out;
  for (const auto& field : f)
    if (iequals(field.name_string(), "Connection"))
      for (auto t : bhttp::token_list{field.value()}) out.emplace_back(t);
  return out;
}

bool is_hop_by_hop_name(std::string_view name) {
  for (auto h : k_hop_by_hop)
    if (iequals(h, name)) return true;
  return false;
}

void check_framing(const std::vector<head_field>& fs, const esgate::http::body_framing& framing) {
  using kind = esgate::http::body_framing::kind;
  const auto cl = only_value(fs, "Content-Length");
  const auto te = only_value(fs, "Transfer-Encoding");
  if (framing.k == kind::length) {
    check(cl && *cl == std::to_string(framing.length));
  } else {
    check(!cl);
  }
  check(te.has_value() == (framing.k == kind::chunked));
  if (te) check(*te == "chunked");
}

// Fields the input's Connection field names are gone from the output, except `exempt` (fields
// the gateway writes itself).
void check_named_fields_dropped(const std::vector<head_field>& fs, const esgate::http::fields& in,
                                std::initializer_list<std::string_view> exempt) {
  for (const auto& token : connection_tokens(in)) {
    if (std::any_of(exempt.begin(), exempt.end(),
                    [&](std::string_view e) { return iequals(token, e); }))
      continue;
    check(count(fs, token) == 0);
  }
}

// The written head re-parses with a fresh Beast parser, which consumes all of it.
template <class Parser>
void reparse_whole(Parser& p, const std::string& out) {
  p.eager(false);
  boost::beast::error_code ec;
  const auto n = p.put(asio::buffer(out), ec);
  check(!ec && p.is_header_done() && n == out.size());
}

void check_upstream_request(const esgate::http::fields& client, std::string_view method,
                            const esgate::http::body_framing& framing) {
  esgate::http::upstream_request_head h;
  h.method = method;
  h.target = k_target;
  h.authorization = k_authorization;
  h.client_ip = k_client_ip;
  h.client_proto = k_client_proto;
  h.framing = framing;
  std::string out;
  esgate::http::append_upstream_request_head(out, client, h);

  const auto fs = split_head(out);
  check(only_value(fs, "Authorization") == k_authorization);
  check(only_value(fs, "X-Forwarded-For") == k_client_ip);
  check(only_value(fs, "X-Forwarded-Proto") == k_client_proto);
  check_framing(fs, framing);
  for (const char* name :
       {"es-security-runas-user", "X-Forwarded-Host", "X-Forwarded-User", "Forwarded", "X-Real-IP",
        "X-Remote-User", "sg_impersonate_as", "opendistro_security_impersonate_as", "Expect"})
    check(count(fs, name) == 0);
  for (const auto& f : fs)
    if (!iequals(f.name, "Transfer-Encoding")) check(!is_hop_by_hop_name(f.name));
  // Named by the client, but the gateway's own are sent.
  check_named_fields_dropped(fs, client,
                             {"Authorization", "X-Forwarded-For", "X-Forwarded-Proto",
                              "Content-Length", "Transfer-Encoding"});

  bhttp::request_parser<bhttp::empty_body> p;
  reparse_whole(p, out);
  check(p.get().method_string() == method);
  check(p.get().target() == k_target);
  check(p.chunked() == (framing.k == esgate::http::body_framing::kind::chunked));
  if (framing.k == esgate::http::body_framing::kind::length)
    check(p.content_length() == framing.length);
  std::size_t fields = 0;
  for (const auto& f : p.get()) {
    (void)f;
    ++fields;
  }
  check(fields == fs.size());
}

void check_client_response(const esgate::http::fields& upstream, unsigned version, bool keep_alive,
                           const esgate::http::body_framing& framing) {
  esgate::http::client_response_head h;
  // A response without framing is only sent where it has no body (else it runs to EOF).
  const bool no_body = framing.k == esgate::http::body_framing::kind::none;
  h.status = no_body ? 204 : 200;
  h.version = version;
  h.keep_alive = keep_alive;
  h.framing = framing;
  std::string out;
  esgate::http::append_client_response_head(out, upstream, h);

  const auto fs = split_head(out);
  check_framing(fs, framing);
  const auto connection = only_value(fs, "Connection");
  if (version >= 11)
    check(keep_alive ? !connection : connection == std::string_view("close"));
  else
    check(keep_alive ? connection == std::string_view("keep-alive") : !connection);
  for (const auto& f : fs)
    if (!iequals(f.name, "Transfer-Encoding") && !iequals(f.name, "Connection"))
      check(!is_hop_by_hop_name(f.name));
  check_named_fields_dropped(fs, upstream, {"Content-Length", "Transfer-Encoding", "Connection"});

  bhttp::response_parser<bhttp::empty_body> p;
  reparse_whole(p, out);
  check(p.get().result_int() == (no_body ? 204 : 200));
  check(p.keep_alive() == keep_alive);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bhttp::request_parser<bhttp::empty_body> parser;
  parser.header_limit(64 * 1024);
  parser.eager(false);
  boost::beast::error_code ec;
  parser.put(asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;

  const auto& req = parser.get();
  const esgate::http::fields& client = req.base();
  const auto problem = esgate::http::framing_problem(client, req.version());
  if (problem) {
    check(!problem->empty());
  } else {
    // Accepted framing must be the framing Beast saw, or the body we forward is not the body
    // the client meant.
    std::size_t te = 0, cl = 0;
    for (const auto& f : client) {
      te += iequals(f.name_string(), "Transfer-Encoding") ? 1 : 0;
      cl += iequals(f.name_string(), "Content-Length") ? 1 : 0;
    }
    check(te + cl <= 1);
    check(parser.chunked() == (te == 1));
    check(parser.content_length().has_value() == (cl == 1));

    esgate::http::body_framing framing;
    if (parser.chunked())
      framing = esgate::http::body_framing::chunked();
    else if (parser.content_length())
      framing = esgate::http::body_framing::of_length(*parser.content_length());
    check_upstream_request(client, req.method_string(), framing);
  }

  // The same fields as an upstream response's, to the client's version and keep-alive.
  const auto framing_pick = size % 3;
  const auto response_framing = framing_pick == 0   ? esgate::http::body_framing::no_body()
                                : framing_pick == 1 ? esgate::http::body_framing::of_length(size)
                                                    : esgate::http::body_framing::chunked();
  check_client_response(client, req.version() >= 11 ? 11 : 10, parser.keep_alive(),
                        response_framing);
  return 0;
}
