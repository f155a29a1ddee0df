#pragma once
// The Prometheus exposition: GET /_esgate/metrics on the main listener (identities with cluster
// `monitor`), and the optional `metrics.listen` listener (config/settings.hpp), plain HTTP without
// authentication, which answers only GET (and HEAD) /metrics and /_esgate/metrics. Keep that
// listener on loopback or a private network: it needs no credentials, but it shows no secret
// either (observability/metrics.hpp: every label is bounded, no key ids or user names).
#include <boost/asio/io_context.hpp>
#include <memory>

#include "esgate/config/settings.hpp"
#include "esgate/http/response.hpp"

namespace esgate::app {

// 200 with every thread's metrics summed now, in the Prometheus text format 0.0.4.
http::gateway_response metrics_response();

class metrics_listener;

// Opens metrics.listen on `ioc` (the control context, off the I/O threads) and serves it until
// `ioc` stops. Throws boost::system::system_error when the address cannot be bound.
std::shared_ptr<metrics_listener> start_metrics_listener(boost::asio::io_context& ioc,
                                                         const config::metrics_listen& where);

}  // namespace esgate::app
