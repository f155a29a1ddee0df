#include "esgate/admin/health.hpp"

#include <boost/json.hpp>

#include "esgate/http/es_error.hpp"

namespace esgate::admin {

http::gateway_response health_response(const health_inputs& in) {
  namespace json = boost::json;
  const bool red = in.nodes_reachable == 0;
  const bool green = !red && in.nodes_reachable == in.nodes_total && in.key_store_reachable;
  json::object body;
  body["status"] = red ? "red" : (green ? "green" : "yellow");
  body["version"] = in.version;
  json::object up;
  up["nodes"] = in.nodes_total;
  up["reachable_nodes"] = in.nodes_reachable;
  body["upstream"] = std::move(up);
  body["key_store"] = json::object{{"reachable", in.key_store_reachable}};
  if (red)
    body["hint"] =
        "no Elasticsearch node answers at the configured upstream; check upstream.nodes in the "
        "config, or start one with docker-compose.yml";
  http::gateway_response r;
  r.status = red ? 503 : 200;
  r.body = json::serialize(body);
  http::add_standard_headers(r);
  return r;
}

}  // namespace esgate::admin
