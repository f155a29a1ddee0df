// Authorization of one target named by a request body (see body_authorize.hpp).
#include "esgate/es/body_authorize.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "authorize_internal.hpp"

namespace esgate::es {
namespace {

using body::target_verdict;
using verdict_kind = target_verdict::kind;

target_verdict deny(std::string reason) {
  target_verdict v;
  v.k = verdict_kind::deny;
  v.reason = std::move(reason);
  return v;
}

target_verdict bad_request(std::string type, std::string reason) {
  target_verdict v;
  v.k = verdict_kind::bad_request;
  v.type = std::move(type);
  v.reason = std::move(reason);
  return v;
}

target_verdict allow(std::vector<std::string> names, bool rewritten) {
  target_verdict v;
  v.k = verdict_kind::allow;
  v.type.clear();
  v.names = std::move(names);
  v.rewritten = rewritten;
  return v;
}

constexpr std::string_view k_auto_create = "indices:admin/auto_create";
using W = authz_check::what;

// Records a check for esgate explain when tracing (see authorize.hpp).
bool noted(const body_target_context& ctx, std::string_view action, std::string_view index,
           bool granted) {
  if (ctx.trace != nullptr) ctx.trace->add(W::index_action, action, index, granted);
  return granted;
}

bool may_auto_create(std::string_view action) {
  return action.starts_with("indices:data/write/index") || action == "indices:data/write/update";
}

target_verdict single_target(const body_target_context& ctx, std::string_view action,
                             std::string_view expression) {
  const auto& p = ctx.who.effective;
  auto parsed = parse_index_expression(expression, ctx.now);
  std::string name;
  if (parsed && parsed->size() == 1 &&
      ((*parsed)[0].kind == item_kind::literal ||
       (*parsed)[0].kind == item_kind::date_math_resolved)) {
    name = std::move((*parsed)[0].text);
  } else if (parsed || expression.find('<') == std::string_view::npos) {
    // A list, wildcard or `_all` where one name is required: ES reads it as a name, which is
    // invalid (`Invalid index name [a,b], must not contain ...`).
    if (auto err = validate_index_name(expression)) return bad_request(err->type, err->reason);
    return bad_request("illegal_argument_exception",
                       "the action " + std::string(action) + " targets a single index");
  } else {
    return bad_request(parsed.error().type, parsed.error().reason);
  }
  if (!noted(ctx, action, name, p.allows_index(action, name)))
    return deny(detail::index_denial(action, ctx.who, {name}));
  if (may_auto_create(action) &&
      !noted(ctx, k_auto_create, name, p.allows_index(k_auto_create, name)) &&
      (ctx.metadata == nullptr || !detail::name_exists(*ctx.metadata, name)))
    return deny(detail::index_denial(k_auto_create, ctx.who, {name}));
  const bool rewritten = name != expression;
  std::vector<std::string> names;
  names.push_back(std::move(name));
  return allow(std::move(names), rewritten);
}

target_verdict multi_target(const body_target_context& ctx, std::string_view action,
                            std::string_view expression) {
  const auto& p = ctx.who.effective;
  std::vector<index_item> items;
  if (!expression.empty()) {
    auto parsed = parse_index_expression(expression, ctx.now);
    if (!parsed) return bad_request(parsed.error().type, parsed.error().reason);
    items = std::move(*parsed);
  }
  const auto authorized = [&](std::string_view n) {
    return noted(ctx, action, n, p.allows_index(action, n));
  };
  static const cluster_metadata k_none;
  const cluster_metadata& md = ctx.metadata ? *ctx.metadata : k_none;
  const auto resolved =
      detail::resolve_names(items, md, authorized, ctx.expand, detail::name_domain::all);
  std::vector<std::string_view> denied;
  std::vector<std::string> kept;
  for (const auto n : resolved) {
    if (authorized(n))
      kept.emplace_back(n);
    else if (!ctx.ignore_unavailable)
      denied.push_back(n);
  }
  if (!denied.empty()) return deny(detail::index_denial(action, ctx.who, denied));
  const bool literal_only =
      !items.empty() && std::all_of(items.begin(), items.end(), [](const index_item& i) {
        return i.kind == item_kind::literal;
      });
  // Forwarded as asked only when it is exactly the literal names kept, in order.
  bool rewritten = !literal_only || kept.size() != items.size();
  if (!rewritten) {
    for (std::size_t i = 0; i < kept.size(); ++i) rewritten = rewritten || kept[i] != items[i].text;
  }
  return allow(std::move(kept), rewritten);
}

}  // namespace

body::target_verdict authorize_body_target(const body_target_context& ctx, std::string_view action,
                                           std::string_view expression, bool single) {
  if (ctx.who.effective.is_superuser()) {
    if (ctx.trace != nullptr) ctx.trace->add(W::superuser, {}, {}, true);
    std::vector<std::string> names;
    if (!expression.empty()) names.emplace_back(expression);
    return allow(std::move(names), false);
  }
  return single ? single_target(ctx, action, expression) : multi_target(ctx, action, expression);
}

}  // namespace esgate::es
