#pragma once
// A small synchronous HTTP/1.1 client for the operator CLI (`esgate keys`): one request per
// connection, plain or TLS (OpenSSL, peer and host name verified unless --insecure), a deadline
// on every phase. Beast stays inside http_client.cpp: this header is all the CLI sees.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

namespace esgate::cli {

struct http_endpoint {
  std::string url;        // http(s)://host[:port][/base]
  std::string cacert;     // PEM bundle to verify the gateway with; empty = the system's CAs
  bool insecure = false;  // https without verification (testing only)
  std::chrono::milliseconds timeout{30000};
};

struct http_reply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// `target` is an origin-form path + query, appended to the URL's base path. On failure the
// error is a sentence for the operator: "cannot connect to 127.0.0.1:9243: Connection refused".
boost::system::result<http_reply, std::string> http_send(
    const http_endpoint& to, std::string_view method, std::string_view target,
    const std::vector<std::pair<std::string, std::string>>& headers, std::string_view body);

// Percent-encodes a query parameter value or path segment (RFC 3986 unreserved kept).
std::string url_encode(std::string_view s);

}  // namespace esgate::cli
