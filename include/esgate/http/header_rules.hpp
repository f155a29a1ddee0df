#pragma once
// Header rules at the edge (threats.md A14, A15): strict request framing, which fields are
// hop-by-hop, which are identity headers a client may not pass on. wire.hpp applies them.
// Included only by the session and tests: it pulls in Beast's fields.
#include <boost/beast/http/fields.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace esgate::http {

using fields = boost::beast::http::fields;

// Rejects framing that a backend could read differently from us (request smuggling):
// more than one Transfer-Encoding field, any coding other than exactly "chunked", TE together with
// Content-Length, TE on HTTP/1.0, several Content-Length fields, a non-numeric Content-Length,
// header values with control characters (Beast's parser already rejects bad names), and names
// that read as Transfer-Encoding or Content-Length once '_' becomes '-'. Returns the
// client-facing reason, or nullopt. Beast 1.81 accepts some of these (threats.md B2), so this runs
// before we trust its framing.
std::optional<std::string> framing_problem(const fields& f, unsigned version);

// Hop-by-hop fields (RFC 9110 §7.6.1: Connection, Keep-Alive, Proxy-*, TE, Trailer,
// Transfer-Encoding, Upgrade) are never forwarded, nor the fields a message's Connection field
// names. `connection_named` holds those names (from connection_named_fields).
bool is_hop_by_hop(std::string_view name, const std::vector<std::string_view>& connection_named);

// The field names listed in the message's Connection fields (views into `f`).
std::vector<std::string_view> connection_named_fields(const fields& f);

// True for identity or impersonation headers a client must never pass to Elasticsearch.
bool is_identity_header(std::string_view name);

}  // namespace esgate::http
