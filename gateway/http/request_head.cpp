#include "esgate/http/request_head.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <cstring>

namespace esgate::http {

namespace bhttp = boost::beast::http;
using boost::beast::iequals;

namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) { return std::strchr("!$&'()*+,;=", c) != nullptr && c != '\0'; }

// reg-name = *( unreserved / pct-encoded / sub-delims ); IPv4address is a subset of it.
bool valid_reg_name(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
    } else if (!is_unreserved(c) && !is_sub_delim(c)) {
      return false;
    }
  }
  return true;
}

// IP-literal = "[" ( IPv6address / IPvFuture ) "]", given without the brackets. No zone ids
// (RFC 6874): a Host naming an interface means nothing to the node behind us.
bool valid_ip_literal(std::string_view s) {
  if (s.empty()) return false;
  if (s.front() == 'v' || s.front() == 'V') {  // IPvFuture = "v" 1*HEXDIG "." 1*( ... / ":" )
    std::size_t i = 1;
    while (i < s.size() && is_hex(s[i])) ++i;
    if (i == 1 || i >= s.size() || s[i] != '.' || i + 1 == s.size()) return false;
    return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i) + 1, s.end(),
                       [](char c) { return is_unreserved(c) || is_sub_delim(c) || c == ':'; });
  }
  if (s.size() > 45) return false;  // INET6_ADDRSTRLEN - 1
  char buf[46];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char addr[16];
  // inet_pton accepts exactly RFC 4291 text forms (hex groups, "::", a trailing dotted IPv4).
  return ::inet_pton(AF_INET6, buf, addr) == 1;
}

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), is_digit)) return false;
  unsigned v = 0;
  for (char c : p) v = v * 10 + static_cast<unsigned>(c - '0');
  return v <= 65535;
}

head_problem bad_request(std::string reason) { return head_problem{400, std::move(reason)}; }

// Splits "scheme://authority/rest" (RFC 3986 §3: any scheme; the caller allows http and https).
// nullopt when the target has no "scheme://" at all.
struct absolute_target {
  std::string_view scheme;
  std::string_view authority;
  std::string_view rest;  // path-abempty [ "?" query ]
};

std::optional<absolute_target> split_absolute(std::string_view target) {
  const auto colon = target.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const auto scheme = target.substr(0, colon);
  if (!is_alpha(scheme.front()) || !std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
      }))
    return std::nullopt;
  auto after = target.substr(colon + 1);
  // Without "//" there is no authority: authority-form ("host:port") or "scheme:path", neither
  // of which starts with "/", so the session refuses them as targets.
  if (after.substr(0, 2) != "//") return std::nullopt;
  after.remove_prefix(2);
  absolute_target t;
  t.scheme = scheme;
  const auto end = after.find_first_of("/?#");
  t.authority = after.substr(0, end);
  t.rest = end == std::string_view::npos ? std::string_view{} : after.substr(end);
  return t;
}

}  // namespace

bool valid_host(std::string_view value) {
  std::string_view host = value, port;
  bool has_port = false;
  if (!value.empty() && value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string_view::npos) return false;
    if (!valid_ip_literal(value.substr(1, close - 1))) return false;
    const auto tail = value.substr(close + 1);
    if (tail.empty()) return true;
    if (tail.front() != ':') return false;
    return valid_port(tail.substr(1));
  }
  if (const auto colon = value.find(':'); colon != std::string_view::npos) {
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
    has_port = true;
  }
  if (!valid_reg_name(host)) return false;  // a second ':' lands here (not a reg-name char)
  if (!has_port) return true;
  return !host.empty() && valid_port(port);  // ":80" names no host
}

request_head_verdict check_request_head(std::string_view method, std::string_view target,
                                        unsigned version, const bhttp::fields& f) {
  request_head_verdict v;
  // CONNECT turns the connection into a tunnel the gateway cannot authorize; TRACE echoes the
  // request, credentials included (cross-site tracing). Elasticsearch serves neither.
  if (method == "CONNECT" || method == "TRACE") {
    v.problem = head_problem{405, "method [" + std::string(method) + "] is not allowed"};
    return v;
  }
  // Protocol upgrades would hand the connection to another protocol the gateway does not
  // inspect: h2c to a backend speaking cleartext HTTP/2 bypasses every path rule (h2csmuggler).
  // Upgrade is hop-by-hop and never forwarded, but refusing it outright leaves no doubt.
  if (f.count(bhttp::field::upgrade) != 0) {
    v.problem = bad_request("the [Upgrade] header is not supported: no protocol upgrades");
    return v;
  }
  if (f.count("HTTP2-Settings") != 0) {
    v.problem = bad_request("the [HTTP2-Settings] header is not supported: no HTTP/2 upgrade");
    return v;
  }

  // RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host or with more
  // than one, and to one whose Host is invalid. HTTP/1.0 may omit it.
  const auto hosts = f.count(bhttp::field::host);
  if (hosts > 1) {
    v.problem = bad_request("a request must carry exactly one [Host] header, found " +
                            std::to_string(hosts));
    return v;
  }
  if (hosts == 0 && version >= 11) {
    v.problem = bad_request("an HTTP/1.1 request must carry a [Host] header");
    return v;
  }
  std::optional<std::string_view> host;
  if (hosts == 1) {
    const auto h = f[bhttp::field::host];
    host = std::string_view(h.data(), h.size());
    if (!valid_host(*host)) {
      v.problem = bad_request("invalid [Host] header");
      return v;
    }
  }

  // RFC 9112 §3.2: a request-target never carries a fragment; a server that cut it off and one
  // that kept it would address different resources.
  if (target.find('#') != std::string_view::npos) {
    v.problem = bad_request("request target must not contain a fragment");
    return v;
  }
  if (!target.empty() && target.front() == '/') return v;  // origin-form: the common case
  auto abs = split_absolute(target);
  if (!abs) return v;  // asterisk- or authority-form: the session refuses non-origin targets
  if (!iequals(abs->scheme, "http") && !iequals(abs->scheme, "https")) {
    v.problem = bad_request("absolute-form request target must use http or https");
    return v;
  }
  // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid; userinfo is deprecated and
  // a classic way to make two parsers see two hosts.
  if (abs->authority.empty() || abs->authority.find('@') != std::string_view::npos ||
      !valid_host(abs->authority)) {
    v.problem = bad_request("invalid authority in absolute-form request target");
    return v;
  }
  // RFC 9112 §3.2.2 tells an origin server to ignore Host for an absolute-form target; the node
  // behind us receives origin-form plus this client's Host, so the two must name the same thing
  // or a Host-routing hop could send the request somewhere the target did not say.
  if (host && !iequals(*host, abs->authority)) {
    v.problem = bad_request("absolute-form request target does not match the [Host] header");
    return v;
  }
  if (abs->rest.empty() || abs->rest.front() != '/')
    v.origin_form = "/" + std::string(abs->rest);  // "http://h" and "http://h?q" (§3.2.2)
  else
    v.origin_form = std::string(abs->rest);
  return v;
}

bool head_scanner::fail(std::string reason) {
  problem_ = std::move(reason);
  return false;
}

bool head_scanner::feed(std::string_view bytes) {
  if (problem_) return false;
  fed_ += bytes.size();
  for (const char c : bytes) {
    if (pending_cr_) {
      if (c != '\n') return fail("request line or header line ends in a bare CR");
      pending_cr_ = false;
      line_start_ = true;
      first_line_ = false;
      continue;
    }
    if (line_start_ && !first_line_ && (c == ' ' || c == '\t'))
      return fail("obsolete line folding (obs-fold) is not allowed in request headers");
    line_start_ = false;
    if (c == '\0') return fail("NUL character in the request head");
    if (c == '\r') pending_cr_ = true;
    if (c == '\n') return fail("request line or header line ends in a bare LF");
  }
  return true;
}

bool head_scanner::finish() {
  if (problem_) return false;
  if (pending_cr_) return fail("request line or header line ends in a bare CR");
  return true;
}

std::optional<std::string> raw_head_problem(std::string_view head) {
  head_scanner scan;
  if (!scan.feed(head) || !scan.finish()) return scan.problem();
  return std::nullopt;
}

}  // namespace esgate::http
