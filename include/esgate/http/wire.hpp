#pragma once
// The bytes of a message head, written in one pass into one flat string: the upstream request
// head, the client response head and whole gateway-made responses. The session sends a head
// together with the first body piece in one gather write. (Beast's serializer walks the fields
// through nested buffer views; on a small proxied request that cost more than the gateway's
// authentication and authorization together, bench/RESULTS.md.)
// Included only by the session, tests and fuzz targets: it pulls in Beast's fields.
#include <boost/beast/http/fields.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "esgate/http/response.hpp"

namespace esgate::http {

using fields = boost::beast::http::fields;

// How a body is delimited on the outgoing side. The gateway always re-frames: incoming framing
// fields are never copied (threats.md A15).
struct body_framing {
  enum class kind { none, length, chunked };
  kind k = kind::none;
  std::uint64_t length = 0;
  static body_framing no_body() { return {}; }
  static body_framing of_length(std::uint64_t n) { return {kind::length, n}; }
  static body_framing chunked() { return {kind::chunked, 0}; }
};

struct upstream_request_head {
  std::string_view method;         // as received (already validated by the parser)
  std::string_view target;         // rebuilt from the authorized, canonical segments
  std::string_view authorization;  // configured upstream credentials; empty = none
  std::string_view client_ip;
  std::string_view client_proto;  // "http" or "https"
  body_framing framing;
  // The gateway inflated the body it forwards: the client's Content-Encoding no longer applies.
  bool drop_content_encoding = false;
  // The gateway rewrites the response: ask for it uncompressed (no Accept-Encoding).
  bool drop_accept_encoding = false;
};

// Appends "METHOD target HTTP/1.1", then the client's fields except hop-by-hop ones (and those
// its Connection field names), Expect, identity/impersonation headers and framing fields, then
// the gateway's Authorization, X-Forwarded-For, X-Forwarded-Proto and framing, and the blank line.
void append_upstream_request_head(std::string& out, const fields& client,
                                  const upstream_request_head& h);

struct client_response_head {
  unsigned status = 200;
  std::string_view reason;  // the upstream's phrase; empty = the standard one
  unsigned version = 11;    // the client's HTTP version: 10 or 11
  bool keep_alive = true;
  body_framing framing;
};

// Appends the status line, the upstream's fields except hop-by-hop and framing fields, framing,
// Connection when the version's default does not match `keep_alive`, and the blank line.
void append_client_response_head(std::string& out, const fields& upstream,
                                 const client_response_head& h);

// Appends a whole gateway-made response: status line, its headers, Content-Length, Connection as
// needed, and the body (for HEAD only the head, with the body's Content-Length).
void append_gateway_response(std::string& out, const gateway_response& r, unsigned version,
                             bool keep_alive, bool head);

// Appends the size line of one chunk of `n` bytes ("<hex>\r\n"); the caller adds data and "\r\n".
void append_chunk_size(std::string& out, std::size_t n);

}  // namespace esgate::http
