// esgate-fuzz-deps: esgate::http
// Fuzzes the request-line and Host rules (http/request_head.hpp). The first byte picks how the
// rest is split into reads; the invariants:
//  - head_scanner fed in pieces reaches the verdict raw_head_problem gives for the whole head,
//    and never reads past a problem (the session refuses as soon as one arrives);
//  - a head Beast parses and the scanner accepts has no bare CR/LF, NUL or obs-fold;
//  - check_request_head accepts only heads with at most one valid Host (exactly one on 1.1), no
//    Upgrade/HTTP2-Settings, no CONNECT/TRACE, no '#', and turns an absolute-form target into an
//    origin-form one whose authority was the Host.
// Any violation traps.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "esgate/http/request_head.hpp"

namespace {

namespace bhttp = boost::beast::http;
using boost::beast::iequals;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_scanner(std::string_view head, std::size_t piece) {
  esgate::http::head_scanner scan;
  bool ok = true;
  for (std::size_t pos = 0; pos < head.size() && ok; pos += piece) {
    ok = scan.feed(head.substr(pos, piece));
    check(ok || scan.problem().has_value());
  }
  if (ok) ok = scan.finish();
  const auto whole = esgate::http::raw_head_problem(head);
  check(ok == !whole.has_value());
  if (!ok) check(*scan.problem() == *whole);
  if (ok) {
    // Nothing the scanner accepts has a lone CR or LF, a NUL or a folded line.
    for (std::size_t i = 0; i < head.size(); ++i) {
      check(head[i] != '\0');
      if (head[i] == '\r') check(i + 1 < head.size() && head[i + 1] == '\n');
      if (head[i] == '\n') check(i > 0 && head[i - 1] == '\r');
    }
    const auto first_end = head.find("\r\n");
    for (auto p = first_end; p != std::string_view::npos; p = head.find("\r\n", p + 2))
      if (p + 2 < head.size()) check(head[p + 2] != ' ' && head[p + 2] != '\t');
  }
}

void check_head(std::string_view head) {
  bhttp::request_parser<bhttp::empty_body> parser;
  parser.header_limit(64 * 1024);
  parser.eager(false);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (ec || !parser.is_header_done()) return;
  const auto& req = parser.get();
  const std::string method(req.method_string());
  const std::string target(req.target());
  const auto v = esgate::http::check_request_head(method, target, req.version(), req.base());
  if (v.problem) {
    check(v.problem->status == 400 || v.problem->status == 405);
    check(!v.problem->reason.empty());
    return;
  }
  check(method != "CONNECT" && method != "TRACE");
  check(req.count(bhttp::field::upgrade) == 0 && req.count("HTTP2-Settings") == 0);
  check(target.find('#') == std::string::npos);
  const auto hosts = req.count(bhttp::field::host);
  check(hosts <= 1 && (req.version() < 11 || hosts == 1));
  if (hosts == 1) check(esgate::http::valid_host(std::string(req[bhttp::field::host])));
  if (!v.origin_form.empty()) {
    check(v.origin_form.front() == '/');
    const auto scheme_end = target.find("://");
    check(scheme_end != std::string::npos);
    const auto authority = std::string_view(target).substr(scheme_end + 3);
    const auto host = std::string(authority.substr(0, authority.find_first_of("/?")));
    check(esgate::http::valid_host(host) && !host.empty());
    if (hosts == 1) check(iequals(host, std::string(req[bhttp::field::host])));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 16;
  const std::string_view head(reinterpret_cast<const char*>(data) + 1, size - 1);
  check_scanner(head, piece);
  check_head(head);
  // Every prefix up to a Host-looking value exercises valid_host on its own as well.
  (void)esgate::http::valid_host(head.substr(0, std::min<std::size_t>(head.size(), 300)));
  return 0;
}
