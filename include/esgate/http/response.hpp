#pragma once
// A response the gateway makes itself (errors, health, the security API). Plain data, no Beast,
// so modules that build responses stay light; the session turns it into bytes.
#include <string>
#include <utility>
#include <vector>

namespace esgate::http {

struct gateway_response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, in order
  std::string body;                                          // JSON
  bool close = false;                                        // close the connection after it
};

}  // namespace esgate::http
