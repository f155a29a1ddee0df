#pragma once
// GET /_esgate/health (interface.md §1): answers without credentials.
//   green  200  every upstream node and the key store reachable
//   yellow 200  the key store or some upstream node unreachable
//   red    503  no upstream node reachable
#include <cstddef>
#include <string>

#include "esgate/http/response.hpp"

namespace esgate::admin {

struct health_inputs {
  std::size_t nodes_total = 0;
  std::size_t nodes_reachable = 0;
  bool key_store_reachable = false;
  std::string version;
};

http::gateway_response health_response(const health_inputs& in);

}  // namespace esgate::admin
