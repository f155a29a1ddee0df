#include "esgate/http/wire.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>
#include <charconv>

#include "esgate/http/header_rules.hpp"

namespace esgate::http {

namespace bhttp = boost::beast::http;
using boost::beast::iequals;

namespace {

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  out.append(digits, end);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void append_framing(std::string& out, const body_framing& f) {
  if (f.k == body_framing::kind::length) {
    out.append("Content-Length: ");
    append_number(out, f.length);
    out.append("\r\n");
  } else if (f.k == body_framing::kind::chunked) {
    out.append("Transfer-Encoding: chunked\r\n");
  }
}

void append_status_line(std::string& out, unsigned version, unsigned status,
                        std::string_view reason) {
  out.append(version >= 11 ? "HTTP/1.1 " : "HTTP/1.0 ");
  append_number(out, status);
  out.push_back(' ');
  if (reason.empty()) {
    // The standard phrase; none for a status Beast does not know (Beast says "<unknown-status>").
    if (bhttp::int_to_status(status) != bhttp::status::unknown) {
      auto standard = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
      reason = std::string_view(standard.data(), standard.size());
    }
  }
  out.append(reason);
  out.append("\r\n");
}

// HTTP/1.1 keeps connections open unless told otherwise; HTTP/1.0 closes unless told otherwise.
void append_connection(std::string& out, unsigned version, bool keep_alive) {
  if (version >= 11 && !keep_alive) out.append("Connection: close\r\n");
  if (version < 11 && keep_alive) out.append("Connection: keep-alive\r\n");
}

std::string_view name_of(const fields::value_type& f) {
  auto n = f.name_string();
  return {n.data(), n.size()};
}

std::string_view value_of(const fields::value_type& f) {
  auto v = f.value();
  return {v.data(), v.size()};
}

bool is_content_length(std::string_view name) { return iequals(name, "Content-Length"); }

}  // namespace

void append_upstream_request_head(std::string& out, const fields& client,
                                  const upstream_request_head& h) {
  out.append(h.method);
  out.push_back(' ');
  out.append(h.target);
  out.append(" HTTP/1.1\r\n");
  const auto named = connection_named_fields(client);
  for (const auto& f : client) {
    const auto name = name_of(f);
    if (is_hop_by_hop(name, named) || is_content_length(name) || iequals(name, "Expect") ||
        is_identity_header(name) ||
        (h.drop_content_encoding && iequals(name, "Content-Encoding")) ||
        (h.drop_accept_encoding && iequals(name, "Accept-Encoding")))
      continue;
    append_field(out, name, value_of(f));
  }
  if (!h.authorization.empty()) append_field(out, "Authorization", h.authorization);
  append_field(out, "X-Forwarded-For", h.client_ip);
  append_field(out, "X-Forwarded-Proto", h.client_proto);
  append_framing(out, h.framing);
  out.append("\r\n");
}

void append_client_response_head(std::string& out, const fields& upstream,
                                 const client_response_head& h) {
  append_status_line(out, h.version, h.status, h.reason);
  const auto named = connection_named_fields(upstream);
  for (const auto& f : upstream) {
    const auto name = name_of(f);
    if (is_hop_by_hop(name, named) || is_content_length(name)) continue;
    append_field(out, name, value_of(f));
  }
  append_framing(out, h.framing);
  append_connection(out, h.version, h.keep_alive);
  out.append("\r\n");
}

void append_gateway_response(std::string& out, const gateway_response& r, unsigned version,
                             bool keep_alive, bool head) {
  append_status_line(out, version, static_cast<unsigned>(r.status), {});
  for (const auto& [name, value] : r.headers) append_field(out, name, value);
  append_framing(out, body_framing::of_length(r.body.size()));
  append_connection(out, version, keep_alive && !r.close);
  out.append("\r\n");
  if (!head) out.append(r.body);
}

void append_chunk_size(std::string& out, std::size_t n) {
  char digits[20];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n, 16);
  out.append(digits, end);
  out.append("\r\n");
}

}  // namespace esgate::http
