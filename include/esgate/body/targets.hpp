#pragma once
// How the body rules ask whether an identity may run an action on the targets a body names.
// The rules (bulk, msearch, docs, reindex) only parse and plan; the decision comes from a
// callback the session builds over es::authorize_body_target (es/body_authorize.hpp), so every
// rule is tested as a table with a fake authorizer.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace esgate::body {

struct target_verdict {
  enum class kind {
    allow,        // `names` are what to forward (wildcards narrowed to authorized, visible names)
    deny,         // 403 security_exception, `reason` in Elasticsearch's words
    bad_request,  // 400 with Elasticsearch's `type` and `reason` (bad index name, date math...)
  };
  kind k = kind::deny;
  std::string type = "security_exception";
  std::string reason;
  // allow: the concrete names to forward. Empty means "nothing visible" (a narrowed wildcard):
  // searches then use Elasticsearch's empty expression `*,-*`.
  std::vector<std::string> names;
  bool rewritten = false;  // names differ from the expression asked for (the caller re-serialises)
};

// `action`: the transport action (`indices:data/write/index:op_type/create`, ...).
// `expression`: an index expression as it would appear in a path (comma list, wildcards, date
// math); empty = all indices. `single`: a concrete single name is required (bulk items, mget
// docs): wildcards and lists are a bad request or taken literally, as Elasticsearch does.
using target_authorizer = std::function<target_verdict(
    std::string_view action, std::string_view expression, bool single)>;

// A request body the gateway refuses as a whole (400 in Elasticsearch's shape, nothing forwarded).
struct body_error {
  int status = 400;
  std::string type = "illegal_argument_exception";
  std::string reason;
};

}  // namespace esgate::body
