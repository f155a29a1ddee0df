#pragma once
// The names that exist in the cluster (indices, aliases, data streams), which wildcard narrowing
// resolves against. Fetched from Elasticsearch with the gateway's own credentials
// (GET /_resolve/index/*?expand_wildcards=all), cached per thread for `metadata_ttl` and shared by
// concurrent requests (single flight).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "esgate/es/authorize.hpp"

namespace esgate::app {

struct worker;

inline constexpr std::chrono::milliseconds metadata_ttl{1000};

// nullptr when no node answered usefully (the caller fails closed).
boost::asio::awaitable<std::shared_ptr<const es::cluster_metadata>> cluster_metadata_for(worker& w);

// Parses a _resolve/index response body; nullopt when it is not one.
std::optional<es::cluster_metadata> parse_resolve_index(std::string_view body);

}  // namespace esgate::app
