#include "esgate/http/es_error.hpp"

#include <boost/json.hpp>

#include "esgate/util/utf8.hpp"

namespace esgate::http {

namespace json = boost::json;

namespace {

// Reasons quote client bytes (a Transfer-Encoding value, a target): Boost.JSON copies strings
// unchecked, so invalid UTF-8 would make the error body invalid JSON that the official clients
// fail to parse. Each malformed sequence becomes U+FFFD, as a lenient decoder would show it.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    if (util::next_code_point(s, i)) {
      out.append(s.substr(start, i - start));
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

}  // namespace

void add_standard_headers(gateway_response& r) {
  r.headers.emplace_back("X-Elastic-Product", "Elasticsearch");
  r.headers.emplace_back("Content-Type", "application/json");
}

static json::object error_object(std::string_view type, std::string_view reason,
                                 const std::vector<error_extra>& extras,
                                 const json::object* header) {
  json::object o;
  o["type"] = type;
  o["reason"] = valid_utf8(reason);
  for (auto& e : extras) o[e.key] = valid_utf8(e.value);
  if (header) o["header"] = *header;
  return o;
}

static gateway_response make(int status, std::string_view type, std::string_view reason,
                             const std::vector<error_extra>& extras, const json::object* header) {
  json::object cause = error_object(type, reason, extras, header);
  json::object error = cause;
  error["root_cause"] = json::array{cause};
  // root_cause first, as Elasticsearch prints it.
  json::object ordered;
  ordered["root_cause"] = error["root_cause"];
  for (auto& kv : error)
    if (kv.key() != "root_cause") ordered[kv.key()] = kv.value();
  json::object body;
  body["error"] = std::move(ordered);
  body["status"] = status;
  gateway_response r;
  r.status = status;
  r.body = json::serialize(body);
  add_standard_headers(r);
  return r;
}

gateway_response es_error(int status, std::string_view type, std::string_view reason,
                          const std::vector<error_extra>& extras) {
  return make(status, type, reason, extras, nullptr);
}

gateway_response unauthenticated(std::string_view reason) {
  json::object header;
  header["WWW-Authenticate"] =
      json::array{json::string(www_authenticate_basic), json::string(www_authenticate_api_key)};
  gateway_response r = make(401, "security_exception", reason, {}, &header);
  r.headers.emplace_back("WWW-Authenticate", std::string(www_authenticate_basic));
  r.headers.emplace_back("WWW-Authenticate", std::string(www_authenticate_api_key));
  return r;
}

gateway_response forbidden(std::string_view reason) {
  return make(403, "security_exception", reason, {}, nullptr);
}

std::string missing_credentials_reason(std::string_view target) {
  std::string s = "missing authentication credentials for REST request [";
  s += target;
  s += "]";
  return s;
}

}  // namespace esgate::http
