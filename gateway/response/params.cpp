// How Elasticsearch reads boolean query parameters (RestRequest.paramAsBoolean,
// Booleans.parseBoolean): AbstractRestChannel reads `pretty` this way.
#include "esgate/response/es_json.hpp"

namespace esgate::response {
namespace {

// Character.isWhitespace for the ASCII range (the only one a blank parameter can be made of
// without also containing text).
bool java_whitespace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= '\x1C' && c <= '\x1F');
}

bool has_text(const std::string& s) {
  for (char c : s)
    if (!java_whitespace(c)) return true;
  return false;
}

}  // namespace

std::optional<bool> param_as_boolean(const std::string* value_or_null, bool default_value) {
  if (value_or_null == nullptr) return default_value;
  const std::string& v = *value_or_null;
  // "Treat empty string as true because that allows the presence of the url parameter to mean
  // 'turn this on'" (RestRequest.paramAsBoolean); blank but not empty falls back to the default.
  if (v.empty()) return true;
  if (!has_text(v)) return default_value;
  if (v == "true") return true;
  if (v == "false") return false;
  return std::nullopt;
}

bool pretty_requested(const std::string* value_or_null) {
  // An invalid value is a 400 from Elasticsearch; whoever builds the response already decided
  // to answer, so it gets the compact form.
  return param_as_boolean(value_or_null, false).value_or(false);
}

}  // namespace esgate::response
