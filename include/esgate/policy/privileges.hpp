#pragma once
// Elasticsearch's named privileges as sets of transport-action patterns (es-security-reference.md
// §5.1, §5.2). A privilege grants an action when the action matches one of its patterns (`*` any
// sequence, `?` one character) and, for `manage`, none of its exclusions.
//
// Raw action patterns are privileges too, as in ES (Privilege.actionToPattern): the text
// `indices:data/write/index:op_type/create` grants every action starting with it, i.e. the
// pattern `<text>*`. Index-template actions (`indices:admin/template/*`,
// `indices:admin/index_template/*`) are CLUSTER actions (ES ClusterPrivilegeResolver
// .isClusterAction).
//
// Privilege names are case-insensitive (ES lowercases them); lists returned here are lowercase.
#include <string>
#include <string_view>
#include <vector>

namespace esgate::policy {

// `cluster:*`, `indices:admin/template/*`, `indices:admin/index_template/*`.
bool is_cluster_action(std::string_view action);
// `indices:*` (except the template actions above) and `internal:transport/proxy/indices:*`.
bool is_index_action(std::string_view action);

bool is_valid_index_privilege(std::string_view name);    // named or raw index action pattern
bool is_valid_cluster_privilege(std::string_view name);  // named or raw cluster action pattern

// Names of the named privileges, in ES's least → most powerful order (the order used in
// "unknown privilege" messages).
const std::vector<std::string>& index_privilege_names();
const std::vector<std::string>& cluster_privilege_names();

// Named privileges that grant `action`, least → most powerful, exactly as the denial message
// "this action is granted by the index privileges [...]" lists them (IndexPrivilege
// .findPrivilegesThatGrant). E.g. indices:data/write/bulk →
// [create_doc,create,delete,index,write,all].
std::vector<std::string> index_privileges_granting(std::string_view action);

// Same for cluster actions (ClusterPrivilegeResolver.findPrivilegesThatGrant). ES includes
// manage_own_api_key for api_key actions only when the request concerns the caller's own keys;
// pass own_keys_request=false to leave it out.
std::vector<std::string> cluster_privileges_granting(std::string_view action,
                                                     bool own_keys_request = true);

// ES's wording for an unknown privilege (RoleDescriptorRequestValidator / IndexPrivilege.resolve).
std::string unknown_index_privilege_message(std::string_view name);
std::string unknown_cluster_privilege_message(std::string_view name);

}  // namespace esgate::policy
