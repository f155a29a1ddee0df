#pragma once
// Header fields from a list, in order (repeats kept), for the http module's tests.
#include <string>
#include <utility>
#include <vector>

#include "esgate/http/header_rules.hpp"

namespace esgate::http::test {

using field_list = std::vector<std::pair<std::string, std::string>>;

inline fields make_fields(const field_list& list) {
  fields f;
  for (const auto& [name, value] : list) f.insert(name, value);
  return f;
}

}  // namespace esgate::http::test
