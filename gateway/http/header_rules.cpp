#include "esgate/http/header_rules.hpp"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <vector>

namespace esgate::http {

namespace bhttp = boost::beast::http;
using boost::beast::iequals;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool has_ctl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

constexpr std::array<std::string_view, 9> hop_by_hop = {"Connection",
                                                        "Keep-Alive",
                                                        "Proxy-Connection",
                                                        "Proxy-Authenticate",
                                                        "Proxy-Authorization",
                                                        "TE",
                                                        "Trailer",
                                                        "Transfer-Encoding",
                                                        "Upgrade"};

// Identity and impersonation headers (threats.md A14): ES run-as, proxy-auth conventions of other
// gateways (ReadonlyREST, Search Guard / OpenSearch), and forwarding headers we set ourselves.
constexpr std::array<std::string_view, 11> identity_headers = {
    "Authorization",
    "es-security-runas-user",
    "X-Forwarded-For",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
    "X-Forwarded-User",
    "Forwarded",
    "X-Real-IP",
    "X-Remote-User",
    "sg_impersonate_as",
    "opendistro_security_impersonate_as"};

// "Transfer_Encoding", "content_length": some servers and CGI-style gateways map '_' to '-'
// when they read header names (Envoy's headers_with_underscores_action exists for this), so a
// backend could frame the body by a field we took for an unknown one.
bool framing_lookalike(std::string_view name) {
  if (name.find('_') == std::string_view::npos) return false;
  std::string dashed(name);
  std::replace(dashed.begin(), dashed.end(), '_', '-');
  return iequals(dashed, "Transfer-Encoding") || iequals(dashed, "Content-Length");
}

}  // namespace

bool is_identity_header(std::string_view name) {
  return std::any_of(identity_headers.begin(), identity_headers.end(),
                     [&](std::string_view h) { return iequals(h, name); });
}

std::optional<std::string> framing_problem(const fields& f, unsigned version) {
  std::size_t te_count = 0, cl_count = 0;
  std::string_view te, cl;
  for (auto const& field : f) {
    auto name = field.name_string();
    auto value = field.value();
    if (has_ctl(value)) return "invalid character in header [" + std::string(name) + "]";
    if (framing_lookalike(name))
      return "header [" + std::string(name) + "] is not allowed: it reads as a framing header";
    if (iequals(name, "Transfer-Encoding")) {
      ++te_count;
      te = value;
    } else if (iequals(name, "Content-Length")) {
      ++cl_count;
      cl = value;
    }
  }
  if (te_count > 1) return std::string("multiple Transfer-Encoding headers are not allowed");
  if (cl_count > 1) return std::string("multiple Content-Length headers are not allowed");
  if (te_count == 1) {
    if (cl_count == 1)
      return std::string("Transfer-Encoding and Content-Length must not be sent together");
    if (version < 11) return std::string("Transfer-Encoding is not allowed on HTTP/1.0 requests");
    if (!iequals(trim(te), "chunked"))
      return "unsupported Transfer-Encoding [" + std::string(trim(te)) + "]";
  }
  if (cl_count == 1) {
    auto v = trim(cl);
    if (v.empty() || v.size() > 19 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return std::string("invalid Content-Length");
  }
  return std::nullopt;
}

std::vector<std::string_view> connection_named_fields(const fields& f) {
  std::vector<std::string_view> named;
  auto [first, last] = f.equal_range(bhttp::field::connection);
  for (auto it = first; it != last; ++it)
    for (auto token : bhttp::token_list{it->value()})
      named.emplace_back(token.data(), token.size());
  return named;
}

bool is_hop_by_hop(std::string_view name, const std::vector<std::string_view>& connection_named) {
  return std::any_of(hop_by_hop.begin(), hop_by_hop.end(),
                     [&](std::string_view h) { return iequals(h, name); }) ||
         std::any_of(connection_named.begin(), connection_named.end(),
                     [&](std::string_view h) { return iequals(h, name); });
}

}  // namespace esgate::http
