#pragma once
// Compiled privilege tables shared by privileges.cpp and permission.cpp.
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "glob.hpp"

namespace esgate::policy::detail {

using index_mask = std::uint32_t;
using cluster_mask = std::bitset<96>;

struct privilege_def {
  std::string name;
  std::vector<glob> include;
  std::vector<glob> exclude;
  lang actions;                // one term: include minus exclude
  bool own_api_keys = false;   // manage_own_api_key: grants only on the caller's own keys
  bool failure_store = false;  // acts on the `::failures` selector only; grants no data action
};

struct privilege_table {
  std::vector<privilege_def> defs;         // bit i = defs[i]
  std::vector<std::size_t> order;          // least → most powerful (ES sortByAccessLevel)
  std::vector<std::vector<bool>> implies;  // implies[p][q]: holding p grants all q grants
  std::vector<std::string> ordered_names;

  std::optional<std::size_t> find(std::string_view lowercase_name) const;
};

const privilege_table& index_table();
const privilege_table& cluster_table();

// Bit positions of a few privileges the permission code tests directly.
std::size_t index_bit(std::string_view name);    // must exist
std::size_t cluster_bit(std::string_view name);  // must exist

// Named privileges granting `action`. Memoized for the actions the gateway knows; computed
// without allocation otherwise. The cluster mask includes manage_own_api_key's bit for api_key
// actions; callers that need an unconditional grant mask it out.
index_mask index_mask_for(std::string_view action);
cluster_mask cluster_mask_for(std::string_view action);

std::string to_lower_ascii(std::string_view s);

// A raw action privilege ("indices:..."): its pattern (text + "*"), or nullopt when `lowercase`
// is not an action name pattern of that kind.
std::optional<std::string> raw_index_action_pattern(std::string_view lowercase);
std::optional<std::string> raw_cluster_action_pattern(std::string_view lowercase);

}  // namespace esgate::policy::detail
