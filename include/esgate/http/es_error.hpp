#pragma once
// Every error the gateway answers itself is built here, in Elasticsearch's shape:
//   {"error":{"root_cause":[{"type":T,"reason":R,...}],"type":T,"reason":R,...},"status":N}
// so the official clients parse it (they raise ApiError subclasses by status and read error.type).
#include <string>
#include <string_view>
#include <vector>

#include "esgate/http/response.hpp"

namespace esgate::http {

// WWW-Authenticate values Elasticsearch sends for the schemes esgate accepts (es-security-reference
// §8.1).
inline constexpr std::string_view www_authenticate_basic =
    R"(Basic realm="security", charset="UTF-8")";
inline constexpr std::string_view www_authenticate_api_key = "ApiKey";

struct error_extra {
  std::string key;
  std::string value;
};

// status, ES exception type and reason; extras are copied into root_cause[0] and error.
gateway_response es_error(int status, std::string_view type, std::string_view reason,
                          const std::vector<error_extra>& extras = {});

// 401 security_exception with both WWW-Authenticate headers (as headers and in the body's
// "header").
gateway_response unauthenticated(std::string_view reason);

// 403 security_exception (no WWW-Authenticate, as Elasticsearch).
gateway_response forbidden(std::string_view reason);

// The reason ES uses when no credentials were sent: "missing authentication credentials for REST
// request [<target>]". The target is the request URI including its query string.
std::string missing_credentials_reason(std::string_view target);

// Headers every gateway-made response carries.
void add_standard_headers(gateway_response& r);

}  // namespace esgate::http
