// The body stage (see body_inspection.hpp).
#include "body_inspection.hpp"

#include "esgate/bulk/bulk_filter.hpp"
#include "esgate/http/es_error.hpp"
#include "esgate/multi/multi.hpp"
#include "esgate/observability/metrics.hpp"

namespace esgate::app {
namespace {

std::string path_index(const es::authz_decision& d, const es::request_target& t) {
  // `/{index}/_bulk`, `/{index}/_msearch`, `/{index}/_mget`: the first segment, when the matched
  // route has an index parameter.
  if (d.ep == nullptr || d.ep->index_param.empty() || t.segments.empty()) return {};
  return t.segments.front();
}

bool query_flag(const es::query_params& q, std::string_view name) {
  const auto v = es::find_query_param(q, name);
  return v && (v->empty() || *v == "true");
}

http::gateway_response answer_json(std::string body) {
  http::gateway_response r;
  r.body = std::move(body);
  http::add_standard_headers(r);
  return r;
}

inspection inspect_bulk(const es::authz_decision& d, const es::request_target& t,
                        std::string_view body, const body::target_authorizer& authorize) {
  inspection out;
  bulk::bulk_filter filter({path_index(d, t), query_flag(t.query, "require_alias")}, authorize);
  auto fed = filter.feed(body, true);
  if (!fed) {
    out.k = inspection::kind::answer;
    out.answer = error_response(*filter.error());
    return out;
  }
  out.items = filter.forwarded_items() + filter.denied().size();
  observability::record_items(observability::item_api::bulk, filter.forwarded_items(),
                              filter.denied().size());
  if (filter.denied().empty()) return out;
  auto rw = rewrite_for(es::body_targets::bulk, t.query);
  rw.set_errors = true;
  for (const auto& item : filter.denied())
    rw.inserts.push_back({item.position, bulk::denied_item_json(item)});
  if (filter.forwarded_items() == 0) {
    out.k = inspection::kind::answer;
    out.answer = answer_json(rewritten_body(std::move(rw), {}).value_or("{}"));
    return out;
  }
  out.body_changed = true;
  out.forward_ranges = std::move(fed->forward);
  out.rewrite = std::move(rw);
  return out;
}

inspection from_plan(es::body_targets kind, const es::request_target& t,
                     boost::system::result<multi::multi_plan, body::body_error> plan,
                     std::string_view body) {
  inspection out;
  if (!plan) {
    out.k = inspection::kind::answer;
    out.answer = error_response(plan.error());
    return out;
  }
  out.items = plan->total;
  observability::record_items(kind == es::body_targets::msearch ? observability::item_api::msearch
                                                                : observability::item_api::mget,
                              plan->forwarded, plan->total - plan->forwarded);
  out.body_changed = plan->forward_body != body;
  if (out.body_changed) out.forward_body = std::move(plan->forward_body);
  if (plan->denied.empty()) return out;
  auto rw = rewrite_for(kind, t.query);
  rw.inserts = std::move(plan->denied);
  if (plan->all_denied()) {
    out.k = inspection::kind::answer;
    out.answer = answer_json(rewritten_body(std::move(rw), {}).value_or("{}"));
    return out;
  }
  out.rewrite = std::move(rw);
  return out;
}

}  // namespace

http::gateway_response error_response(const body::body_error& e) {
  if (e.status == 403) return http::forbidden(e.reason);
  return http::es_error(e.status, e.type, e.reason);
}

body::target_authorizer make_body_authorizer(const es::body_target_context& ctx) {
  return [ctx](std::string_view action, std::string_view expression, bool single) {
    return es::authorize_body_target(ctx, action, expression, single);
  };
}

response_rewrite rewrite_for(es::body_targets inspect, const es::query_params& query) {
  response_rewrite rw;
  rw.array_key = inspect == es::body_targets::bulk      ? "items"
                 : inspect == es::body_targets::msearch ? "responses"
                                                        : "docs";
  rw.filter_path = std::string(es::find_query_param(query, "filter_path").value_or(""));
  const auto pretty = es::find_query_param(query, "pretty");
  std::string value = pretty ? std::string(*pretty) : std::string();
  rw.pretty = response::pretty_requested(pretty ? &value : nullptr);
  return rw;
}

std::optional<std::string> rewritten_body(response_rewrite rw, std::string_view upstream_body) {
  return response::splice_response(upstream_body, rw.array_key, std::move(rw.inserts),
                                   rw.set_errors, rw.filter_path, rw.pretty);
}

inspection inspect_body(const es::authz_decision& d, const es::request_target& t,
                        std::string_view body, const es::body_target_context& ctx) {
  return inspect_body(d, t, body, ctx, make_body_authorizer(ctx));
}

inspection inspect_body(const es::authz_decision& d, const es::request_target& t,
                        std::string_view body, const es::body_target_context& ctx,
                        const body::target_authorizer& authorize) {
  const std::string_view action = d.ep ? d.ep->target_action : std::string_view{};
  switch (d.inspect) {
    case es::body_targets::bulk:
      return inspect_bulk(d, t, body, authorize);
    case es::body_targets::msearch:
      return from_plan(
          d.inspect, t,
          multi::plan_msearch(body, path_index(d, t),
                              action.empty() ? "indices:data/read/search" : action, authorize),
          body);
    case es::body_targets::docs:
      // ES authorizes mget per shard request on the docs' indices with the mget action.
      return from_plan(
          d.inspect, t,
          multi::plan_docs(body, path_index(d, t),
                           action.empty() ? std::string_view(d.action) : action, authorize),
          body);
    case es::body_targets::reindex: {
      inspection out;
      auto plan =
          multi::plan_reindex(body, ctx.who.effective.has_cluster_privilege("all"), authorize);
      if (!plan) {
        out.k = inspection::kind::answer;
        out.answer = error_response(plan.error());
        return out;
      }
      out.body_changed = *plan != body;
      if (out.body_changed) out.forward_body = std::move(*plan);
      return out;
    }
    default:
      break;
  }
  inspection out;
  if (d.check_query_body && !ctx.who.effective.reads_everything()) {
    if (auto e = multi::check_query_body(body, authorize)) {
      out.k = inspection::kind::answer;
      out.answer = error_response(*e);
    }
  }
  return out;
}

}  // namespace esgate::app
