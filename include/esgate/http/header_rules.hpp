#pragma once
// Header rules at the edge (threats.md A14, A15): strict request framing, hop-by-hop removal,
// identity-header stripping, and the headers the gateway adds towards Elasticsearch.
// Included only by the session and tests: it pulls in Beast's fields.
#include <boost/beast/http/fields.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace esgate::http {

using fields = boost::beast::http::fields;

// Rejects framing that a backend could read differently from us (request smuggling):
// more than one Transfer-Encoding field, any coding other than exactly "chunked", TE together with
// Content-Length, TE on HTTP/1.0, several Content-Length fields, a non-numeric Content-Length,
// header names or values with control characters. Returns the client-facing reason, or nullopt.
// Beast 1.81 accepts some of these (threats.md B2), so this runs before we trust its framing.
std::optional<std::string> framing_problem(const fields& f, unsigned version);

// Removes the hop-by-hop headers (RFC 9110 §7.6.1: Connection and the fields it names,
// Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade) and Expect, which the gateway
// answers itself. Framing is re-applied by the caller from what the parser saw.
void remove_hop_by_hop(fields& f);

struct upstream_identity {
  std::string authorization;  // full header value towards Elasticsearch, empty = none
};

// Turns client request headers into upstream request headers: hop-by-hop and Expect removed, the
// client's Authorization and every identity/impersonation header removed (the gateway owns backend
// authentication), X-Forwarded-For / X-Forwarded-Proto set by the gateway (client-sent values are
// untrusted and replaced), configured upstream credentials added.
void prepare_upstream_request(fields& f, const upstream_identity& id, std::string_view client_ip,
                              std::string_view client_proto);

// Upstream response headers towards the client: hop-by-hop removed.
void prepare_client_response(fields& f);

// True for identity or impersonation headers a client must never pass to Elasticsearch.
bool is_identity_header(std::string_view name);

}  // namespace esgate::http
