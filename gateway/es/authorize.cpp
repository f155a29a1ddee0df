// The authorization decision (see authorize.hpp for the rules and why).
#include "esgate/es/authorize.hpp"

#include <algorithm>
#include <optional>
#include <utility>
#include <variant>

#include "authorize_internal.hpp"
#include "esgate/es/index_expression.hpp"

namespace esgate::es {
namespace {

using kind = authz_decision::kind;
using W = authz_check::what;

// Records a check for esgate explain when tracing; the request path only tests the pointer.
bool noted(authz_trace* t, W w, std::string_view action, std::string_view index, bool granted) {
  if (t != nullptr) t->add(w, action, index, granted);
  return granted;
}

constexpr std::string_view k_auto_create = "indices:admin/auto_create";
// ES's own "no indices" expression (IndicesAndAliasesResolver NO_INDICES_OR_ALIASES_ARRAY): the
// node answers its native empty response for whatever API, and nothing can match it.
constexpr std::string_view k_no_indices = "*,-*";

authz_decision make(kind k, int status, std::string type, std::string reason) {
  authz_decision d;
  d.k = k;
  d.status = status;
  d.error_type = std::move(type);
  d.reason = std::move(reason);
  return d;
}

authz_decision deny(std::string reason) {
  return make(kind::deny, 403, "security_exception", std::move(reason));
}

authz_decision bad_request(std::string type, std::string reason) {
  return make(kind::bad_request, 400, std::move(type), std::move(reason));
}

authz_decision allow(std::string upstream) {
  authz_decision d = make(kind::allow, 200, {}, {});
  d.upstream_target = std::move(upstream);
  return d;
}

// ES's Booleans.parseBoolean: empty = default, otherwise exactly true/false.
std::optional<bool> bool_param(const query_params& q, std::string_view name, bool def,
                               std::string* error) {
  const auto v = find_query_param(q, name);
  if (!v || v->empty()) return def;
  if (*v == "true") return true;
  if (*v == "false") return false;
  *error = "Failed to parse value [" + std::string(*v) + "] as only [true] or [false] are allowed.";
  return std::nullopt;
}

bool is_destructive(std::string_view action) {
  // DestructiveOperations callers; action.destructive_requires_name defaults to true since 8.0.
  return action == "indices:admin/delete" || action == "indices:admin/close" ||
         action == "indices:admin/block/add";
}

bool may_auto_create(std::string_view action) {
  return action.starts_with("indices:data/write/index") || action == "indices:data/write/update";
}

// Requests whose body names their own targets (bulk items, mget docs, msearch headers, reindex
// source/dest, SQL FROM...) while the gateway does not scan bodies yet (threats.md A1, A11, A12):
// forward only for identities that could touch every index anyway, i.e. that hold what every
// item could need on `*` *including* restricted indices. Replace this with body scanning.
bool unscanned_body_allowed(const endpoint& ep, const policy::permission& p, authz_trace* t) {
  if (noted(t, W::superuser, {}, {}, p.is_superuser())) return true;
  const auto on_everything = [&](std::string_view privilege) {
    return noted(t, W::index_privilege, privilege, "*",
                 p.has_index_privilege(privilege, "*", true));
  };
  const std::string_view a = ep.action;
  if (a == "indices:data/write/reindex")
    return on_everything("read") && on_everything("write") && on_everything("create_index");
  if (a.starts_with("indices:data/write/"))  // items may create, overwrite or auto-create
    return on_everything("write") && on_everything("create_index");
  if (a.starts_with("indices:data/read/")) return on_everything("read");
  return on_everything("all");
}

std::string body_denial(const endpoint& ep, const policy::identity& who) {
  return "action [" + std::string(ep.action) + "] is unauthorized for " + who.subject() +
         ": requests whose body names their targets (bulk, mget, msearch...) are not "
         "authorized by esgate yet";
}

// One expression-carrying path parameter of the route being forwarded.
struct expression_param {
  std::string_view name;
  std::optional<std::string_view> value;                  // nullopt: omitted, means all
  detail::name_domain domain = detail::name_domain::all;  // what wildcards may reach
  bool single = false;                                    // concrete single name required
  std::string rewritten;
};

class index_authorizer {
 public:
  index_authorizer(const authz_request& r, const route_match& m, std::string_view action)
      : r_(r), m_(m), action_(action), p_(r.who.effective) {}

  // Resolves and authorizes every expression parameter; fills `out` with the outcome when the
  // request is not (yet) allowed. On success the forwarded target is built by upstream().
  std::optional<authz_decision> run() {
    const endpoint& ep = *m_.ep;
    target_ = &ep;
    std::optional<std::string_view> inserted;
    if (ep.index_param.empty()) {
      const auto v = detail::variant_with_expression(ep);
      if (v.ep != nullptr) {
        target_ = v.ep;
        inserted = v.param;
      }
    }
    for (const std::string_view name : {target_->index_param, target_->second_index_param}) {
      if (name.empty()) continue;
      expression_param e;
      e.name = name;
      if (!inserted || *inserted != name) e.value = m_.param(name);
      const bool second = name == target_->second_index_param;
      if (second && action_.starts_with("indices:admin/aliases"))
        e.domain = detail::name_domain::aliases;
      else if (target_->path.starts_with("/_data_stream/") && name == "name")
        e.domain = detail::name_domain::data_streams;
      e.single = !ep.multi_target || (second && ep.name == "indices.put_alias");
      params_.push_back(std::move(e));
    }
    if (params_.empty()) {
      // No index to name (`/_analyze`): ES checks the action by name only.
      if (!noted(r_.trace, W::index_action_somewhere, action_, {},
                 p_.allows_index_action_somewhere(action_)))
        return deny(detail::index_action_denial(action_, r_.who));
      return std::nullopt;
    }

    std::string err;
    const auto ignore_unavailable = bool_param(r_.target.query, "ignore_unavailable", false, &err);
    const auto allow_no_indices = bool_param(r_.target.query, "allow_no_indices", true, &err);
    if (!ignore_unavailable || !allow_no_indices)
      return bad_request("illegal_argument_exception", err);
    auto expand = parse_expand_wildcards(
        find_query_param(r_.target.query, "expand_wildcards").value_or(std::string_view{}));
    if (!expand) return bad_request(expand.error().type, expand.error().reason);

    // Parse everything first: syntax errors are 400 whatever the identity.
    std::vector<std::vector<index_item>> parsed;
    bool need_metadata = false;
    for (auto& e : params_) {
      std::vector<index_item> items;
      if (e.value && !e.value->empty()) {
        auto res = parse_index_expression(*e.value, r_.now);
        if (!res) return bad_request(res.error().type, res.error().reason);
        items = std::move(*res);
      }
      if (auto bad = check_shape(e, items)) return bad;
      need_metadata =
          need_metadata || items.empty() ||
          std::any_of(items.begin(), items.end(), [](const index_item& i) {
            return i.kind != item_kind::literal && i.kind != item_kind::date_math_resolved;
          });
      parsed.push_back(std::move(items));
    }

    const auto authorized = [this](std::string_view n) { return allowed(n); };
    if (need_metadata && r_.metadata == nullptr) {
      // Deny on explicit names before making the gateway fetch anything.
      if (auto d = deny_literals(parsed, *ignore_unavailable)) return d;
      return make(kind::need_metadata, 0, {}, {});
    }
    static const cluster_metadata k_none;
    const cluster_metadata& md = r_.metadata ? *r_.metadata : k_none;

    bool nothing = false;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      auto& e = params_[i];
      auto names = detail::resolve_names(parsed[i], md, authorized, *expand, e.domain);
      // What survives and is not authorized can only be an explicit name.
      std::vector<std::string_view> denied;
      std::vector<std::string_view> kept;
      for (const auto n : names) {
        if (allowed(n))
          kept.push_back(n);
        else if (!*ignore_unavailable)
          denied.push_back(n);
      }
      if (!denied.empty()) return deny(denial_for(denied));
      if (kept.empty()) {
        nothing = true;
        continue;
      }
      for (const auto n : kept) (e.rewritten += e.rewritten.empty() ? "" : ",") += n;
      if (e.single && may_auto_create(action_)) {
        if (auto d = check_auto_create(kept.front())) return d;
      }
    }
    if (nothing) {
      if (!*allow_no_indices) {
        const auto& e = params_.front();
        const std::string expr = e.value && !e.value->empty() ? std::string(*e.value) : "_all";
        return make(kind::not_found, 404, "index_not_found_exception",
                    "no such index [" + expr + "]");
      }
      empty_ = true;
      for (auto& e : params_)
        if (e.rewritten.empty()) e.rewritten = k_no_indices;
    }
    return std::nullopt;
  }

  bool nothing_matched() const { return empty_; }

  // The route pattern with every parameter bound: expression parameters get the resolved
  // names, the others their decoded values.
  std::string upstream() const {
    std::vector<std::string> segs;
    segs.reserve(target_->segments.size());
    for (const std::string_view seg : target_->segments) {
      if (seg.size() >= 2 && seg.front() == '{' && seg.back() == '}') {
        const std::string_view name = seg.substr(1, seg.size() - 2);
        const auto it = std::find_if(params_.begin(), params_.end(),
                                     [&](const expression_param& e) { return e.name == name; });
        if (it != params_.end())
          segs.push_back(it->rewritten);
        else
          segs.emplace_back(m_.param(name).value_or(std::string_view{}));
      } else {
        segs.emplace_back(seg);
      }
    }
    return build_upstream_target(segs, r_.target.query);
  }

 private:
  bool allowed(std::string_view name) const {
    if (!noted(r_.trace, W::index_action, action_, name, p_.allows_index(action_, name)))
      return false;
    const std::string_view extra = m_.ep->target_action;
    return extra.empty() ||
           noted(r_.trace, W::index_action, extra, name, p_.allows_index(extra, name));
  }

  // ES's single-target and destructive-operation rules (§7.2, 400).
  std::optional<authz_decision> check_shape(const expression_param& e,
                                            const std::vector<index_item>& items) const {
    const bool all = items.empty() || (items.size() == 1 && items[0].kind == item_kind::all);
    const bool wild =
        std::any_of(items.begin(), items.end(), [](const index_item& i) { return is_wildcard(i); });
    if (e.single) {
      const std::string expr(e.value.value_or("_all"));
      if (all)
        return bad_request("illegal_argument_exception",
                           "the action " + std::string(action_) +
                               " does not support accessing all indices; the provided index "
                               "expression [" +
                               expr + "] is not allowed");
      if (wild) {
        std::string w;
        for (const auto& i : items)
          if (is_wildcard(i))
            (w += w.empty() ? "" : ",") += (i.kind == item_kind::exclusion ? "-" : "") + i.text;
        return bad_request("illegal_argument_exception",
                           "the action " + std::string(action_) +
                               " does not support wildcards; the provided index expression(s) [" +
                               w + "] are not allowed");
      }
      if (items.size() != 1) {
        // One name is expected: ES reads `a,b` as a name with a comma in it.
        if (auto err = validate_index_name(expr)) return bad_request(err->type, err->reason);
        return bad_request("illegal_argument_exception",
                           "the action " + std::string(action_) + " targets a single index");
      }
    }
    if ((all || wild) && is_destructive(action_))
      return bad_request("illegal_argument_exception",
                         "Wildcard expressions or all indices are not allowed");
    return std::nullopt;
  }

  std::optional<authz_decision> deny_literals(const std::vector<std::vector<index_item>>& parsed,
                                              bool ignore_unavailable) const {
    if (ignore_unavailable) return std::nullopt;
    std::vector<std::string_view> denied;
    for (const auto& items : parsed) {
      for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& it = items[i];
        if (it.kind != item_kind::literal && it.kind != item_kind::date_math_resolved) continue;
        // A later exclusion may drop it (`secret,*,-secret`): let the full resolution decide.
        const bool excluded_later =
            std::any_of(items.begin() + static_cast<std::ptrdiff_t>(i) + 1, items.end(),
                        [](const index_item& x) { return x.kind == item_kind::exclusion; });
        if (!excluded_later && !allowed(it.text) &&
            std::find(denied.begin(), denied.end(), it.text) == denied.end())
          denied.push_back(it.text);
      }
    }
    if (denied.empty()) return std::nullopt;
    return deny(denial_for(denied));
  }

  // Names the first failing action (the endpoint's, then its per-target one).
  std::string denial_for(const std::vector<std::string_view>& denied) const {
    std::vector<std::string_view> first;
    for (const auto n : denied)
      if (!p_.allows_index(action_, n)) first.push_back(n);
    if (!first.empty()) return detail::index_denial(action_, r_.who, first);
    return detail::index_denial(m_.ep->target_action, r_.who, denied);
  }

  // Writing to a missing index creates it: ES authorizes indices:admin/auto_create first (§6).
  std::optional<authz_decision> check_auto_create(std::string_view name) const {
    if (noted(r_.trace, W::index_action, k_auto_create, name, p_.allows_index(k_auto_create, name)))
      return std::nullopt;
    if (r_.metadata == nullptr) return make(kind::need_metadata, 0, {}, {});
    if (detail::name_exists(*r_.metadata, name)) return std::nullopt;
    return deny(detail::index_denial(k_auto_create, r_.who, {name}));
  }

  const authz_request& r_;
  const route_match& m_;
  std::string_view action_;
  const policy::permission& p_;
  const endpoint* target_ = nullptr;
  std::vector<expression_param> params_;
  bool empty_ = false;
};

// Rule 3 of authorize.hpp: parameters that change what the request targets without the path.
std::optional<authz_decision> check_query(const authz_request& r, const endpoint& ep) {
  const bool src = has_source_param(r.target.query);
  if (src || find_query_param(r.target.query, "source_content_type")) {
    return bad_request("illegal_argument_exception",
                       std::string("the [") + (src ? "source" : "source_content_type") +
                           "] query parameter is not supported by esgate; send the request "
                           "body instead");
  }
  // Only index authorization depends on which names the handler reads; cluster actions are
  // granted cluster-wide whatever their parameters.
  if (ep.kind != endpoint_kind::index && ep.kind != endpoint_kind::index_name_only)
    return std::nullopt;
  const auto& names = detail::family_path_params(ep);
  for (const auto& [name, value] : r.target.query) {
    if (name == "index" ||
        std::find(names.begin(), names.end(), std::string_view(name)) != names.end()) {
      return bad_request("illegal_argument_exception",
                         "the [" + name +
                             "] query parameter is not supported by esgate: Elasticsearch "
                             "reads it as the path parameter [" +
                             name + "]; name the target in the path instead");
    }
  }
  return std::nullopt;
}

authz_decision authorize_index(const authz_request& r, const route_match& m,
                               std::string_view action) {
  const endpoint& ep = *m.ep;
  const auto& p = r.who.effective;
  if (!ep.cluster_action.empty() && !noted(r.trace, W::cluster_action, ep.cluster_action, {},
                                           p.allows_cluster(ep.cluster_action)))
    return deny(detail::cluster_denial(ep.cluster_action, r.who));
  index_authorizer az(r, m, action);
  if (auto d = az.run()) return *std::move(d);
  authz_decision d = allow({});
  if (az.nothing_matched() && (ep.name == "search" || ep.name == "count")) {
    d.empty_result = true;  // the gateway answers empty_response_body()
    return d;
  }
  d.upstream_target = az.upstream();
  return d;
}

// A request on an existing context: allowed here, bound to its opener by the session.
authz_decision continuation(const authz_request& r, const route_match& m, const endpoint& ep) {
  authz_decision d = allow(build_upstream_target(r.target));
  d.continues = ep.context;
  if (!ep.context_param.empty()) d.context_id = std::string(m.param(ep.context_param).value_or(""));
  return d;
}

// Bodies the session reads and authorizes item by item (body_authorize.hpp).
bool inspected_body(body_targets b) {
  return b == body_targets::bulk || b == body_targets::msearch || b == body_targets::docs ||
         b == body_targets::reindex;
}

bool reads_with_query(const endpoint& ep, std::string_view action) {
  return ep.kind == endpoint_kind::index &&
         (action.starts_with("indices:data/read/") || action.ends_with("/byquery"));
}

authz_decision authorize_name_only(const authz_request& r, const route_match& m,
                                   std::string_view action) {
  const endpoint& ep = *m.ep;
  const auto& p = r.who.effective;
  if (!noted(r.trace, W::index_action_somewhere, action, {},
             p.allows_index_action_somewhere(action)))
    return deny(detail::index_action_denial(action, r.who));
  // `POST /_sql` may carry a cursor in its body: the body rule below decides for it.
  if (ep.context != context_kind::none && ep.context != context_kind::sql_cursor)
    return continuation(r, m, ep);
  const bool body_ok = unscanned_body_allowed(ep, p, r.trace);
  if (!body_ok && inspected_body(ep.body) && ep.name != "simulate.ingest") {
    // The path's index is only the items' default: each item is authorized on its own target.
    authz_decision a = allow(build_upstream_target(r.target));
    a.inspect = ep.body;
    return a;
  }
  if (!ep.index_param.empty() && m.param(ep.index_param)) {
    index_authorizer az(r, m, action);
    // Without the power to forward the body, a pattern in the URL is not worth a metadata fetch.
    auto d = az.run();
    if (d && !(d->k == kind::need_metadata && !body_ok)) return *std::move(d);
    if (!body_ok) return deny(body_denial(ep, r.who));
    authz_decision a = allow(az.upstream());
    return a;
  }
  if (!body_ok) return deny(body_denial(ep, r.who));
  return allow(build_upstream_target(r.target));
}

}  // namespace

void authz_trace::add(authz_check::what w, std::string_view action, std::string_view index,
                      bool granted) {
  for (const auto& c : checks)
    if (c.w == w && c.action == action && c.index == index && c.granted == granted) return;
  checks.push_back(authz_check{w, std::string(action), std::string(index), granted});
}

authz_decision authorize(const authz_request& r) {
  const std::string uri = build_upstream_target(r.target);
  route_result routed = resolve_route(r.method, r.target.segments);
  if (std::holds_alternative<route_not_found>(routed))
    return make(kind::bad_request, 400, {}, no_handler_reason(uri, r.method));
  if (const auto* na = std::get_if<route_method_not_allowed>(&routed)) {
    authz_decision d =
        make(kind::method_not_allowed, 405, {}, method_not_allowed_reason(uri, r.method, *na));
    d.allow = format_methods(na->allowed);
    return d;
  }
  if (const auto* opt = std::get_if<route_options>(&routed)) {
    authz_decision d = allow(uri);  // ES answers OPTIONS itself, without touching data
    d.allow = format_methods(opt->allowed);
    return d;
  }
  const route_match& m = std::get<route_match>(routed);
  const endpoint& ep = *m.ep;
  const std::string_view action = effective_action(ep, find_query_param(r.target.query, "op_type"));
  const auto finish = [&](authz_decision d) {
    d.ep = &ep;
    d.action = std::string(action);
    return d;
  };

  if (ep.kind == endpoint_kind::served) return finish(make(kind::served, 200, {}, {}));
  const auto& p = r.who.effective;
  if (noted(r.trace, W::superuser, {}, {}, p.is_superuser())) return finish(allow(uri));
  // `always` requests (clear scroll, close PIT...) touch nothing a parameter could widen.
  if (ep.kind != endpoint_kind::always) {
    if (auto bad = check_query(r, ep)) return finish(*std::move(bad));
  }

  switch (ep.kind) {
    case endpoint_kind::unclassified:
      // Unknown semantics: only an identity that may do anything on the cluster (fail closed).
      if (!noted(r.trace, W::cluster_privilege, "all", {}, p.has_cluster_privilege("all")))
        return finish(deny("action [" + std::string(ep.name) + "] is unauthorized for " +
                           r.who.subject() +
                           ", this action is granted by the cluster privileges [all]"));
      return finish(allow(uri));
    case endpoint_kind::cluster:
      if (!noted(r.trace, W::cluster_action, action, {}, p.allows_cluster(action)))
        return finish(deny(detail::cluster_denial(action, r.who)));
      if (ep.context != context_kind::none) return finish(continuation(r, m, ep));
      return finish(allow(uri));
    case endpoint_kind::always:
      if (ep.context != context_kind::none && ep.context != context_kind::sql_cursor)
        return finish(continuation(r, m, ep));
      return finish(allow(uri));
    case endpoint_kind::index: {
      auto d = authorize_index(r, m, action);
      // Search bodies are read for a `pit` (bound to its opener) and, for identities that may
      // not read everything, for queries that read other indices.
      d.check_query_body =
          d.k == kind::allow &&
          ((reads_with_query(ep, action) &&
            !noted(r.trace, W::index_privilege, "read", "*", p.reads_everything())) ||
           ep.body == body_targets::pit);
      return finish(std::move(d));
    }
    case endpoint_kind::index_name_only:
      return finish(authorize_name_only(r, m, action));
    case endpoint_kind::served:
      break;
  }
  return finish(
      deny("action [" + std::string(action) + "] is unauthorized for " + r.who.subject()));
}

}  // namespace esgate::es
