#pragma once
// Request-line and Host rules at the edge (issue 10, threats.md A15). A proxy and the server behind
// it must agree on what a request *is*: which host it is for, which resource, which protocol. Every
// shape below has been read two ways by some pair of servers (HTTP Garden, h2csmuggler), so the
// gateway refuses it with 400 and closes the connection instead of guessing. Sans-I/O: the session
// calls these with the parsed head (and its raw bytes) and turns a problem into an ES error.
//
// rule                                                        answer
// HTTP/1.1 without Host, or any version with several Host     400
// Host not uri-host [":" port] (RFC 3986 reg-name, IPv4,      400
//   IP-literal; port 1-5 digits <= 65535)
// absolute-form target (http://a/p) whose authority is not    400 (when it agrees: its path and
//   the Host field (case-insensitive), or not http(s)://           query are the target)
// a fragment ('#') in the target                             400
// CONNECT, TRACE                                              405 (+ Allow)
// Upgrade (h2c or any other), HTTP2-Settings                  400
// raw head (head_scanner): a line ending in a bare LF or a    400, as soon as it arrives
//   bare CR, NUL, an obs-fold continuation line (Beast 1.81
//   unfolds those)
//
// Included only by the session and tests: it pulls in Beast's fields.
#include <boost/beast/http/fields.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace esgate::http {

struct head_problem {
  int status = 400;    // 400, or 405 for methods the gateway never forwards
  std::string reason;  // client-facing; never echoes header values
};

struct request_head_verdict {
  std::optional<head_problem> problem;
  // For an accepted absolute-form target: its path and query ("/" for an empty path), which is
  // the request target from here on. Empty = the target was not in absolute form.
  std::string origin_form;
};

// The methods in the Allow header of the 405 for CONNECT and TRACE.
inline constexpr std::string_view forwardable_methods =
    "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";

// Host, Upgrade and request-target rules over a parsed head. `method` and `target` as received.
request_head_verdict check_request_head(std::string_view method, std::string_view target,
                                        unsigned version, const boost::beast::http::fields& f);

// Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2-3.2.3), with a non-empty port of
// at most 65535. An empty value is valid syntax (RFC 9112 §3.2); callers decide if it may be.
bool valid_host(std::string_view value);

// Checks the raw bytes of a request head for what Beast's parser lets through or could not tell
// us afterwards: every line must end in CRLF (no bare CR, no bare LF, RFC 9112 §2.2), no NUL, and
// no obs-fold continuation line (RFC 9112 §5.2: a server must reject it or replace it; Beast 1.81
// silently unfolds it, so a backend that does not could see a different header).
//
// Incremental: the session feeds the head's bytes as they arrive, before the parser has all of
// it, so a head only a lenient parser could end ("...\r\n\n": Beast keeps waiting for CRLFCRLF)
// is refused at once instead of holding the connection until limits.header_timeout. Every byte
// buffered while the parser still waits for the end of the head is a head byte, so nothing of a
// body is ever scanned.
class head_scanner {
 public:
  // Scans the next bytes of the head; false once a problem was found (see problem()).
  bool feed(std::string_view bytes);
  // The head is complete: a CR still waiting for its LF is a bare CR.
  bool finish();
  // How many bytes were fed: the caller feeds from there on.
  std::size_t fed() const { return fed_; }
  const std::optional<std::string>& problem() const { return problem_; }

 private:
  bool fail(std::string reason);

  std::size_t fed_ = 0;
  bool pending_cr_ = false;  // the last byte fed was a CR
  bool line_start_ = true;
  bool first_line_ = true;
  std::optional<std::string> problem_;
};

// The whole check over one complete head (request line through the blank line). Returns the
// client-facing reason, or nullopt.
std::optional<std::string> raw_head_problem(std::string_view head);

}  // namespace esgate::http
