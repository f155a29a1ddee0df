#pragma once
// Validation shared by the roles.yml and JSON role descriptor parsers. Each returns ES's wording
// for the problem, or nullopt when the value is fine.
#include <optional>
#include <string>
#include <string_view>

namespace esgate::policy::detail {

std::optional<std::string> check_cluster_privilege(std::string_view name);
std::optional<std::string> check_index_privilege(std::string_view name);
std::optional<std::string> check_index_name(std::string_view pattern);
std::optional<std::string> check_role_name(std::string_view name);

inline constexpr std::string_view reserved_metadata_message =
    "role descriptor metadata keys may not start with '_'";
inline constexpr std::string_view empty_names_message =
    "indices privileges must refer to at least one index name or index name pattern";
inline constexpr std::string_view empty_privileges_message =
    "indices privileges must define at least one privilege";

std::string not_supported_message(std::string_view field, std::string_view role);

}  // namespace esgate::policy::detail
