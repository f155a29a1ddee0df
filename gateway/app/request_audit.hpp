#pragma once
// The session's side of the audit log and the shadow policy: records built from what the request
// path already holds (views, no copies), and the shadow decision. Nothing here runs when audit,
// access log and shadow policy are off (the session tests one pointer / flag first).
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/auth/credentials.hpp"
#include "esgate/es/authorize.hpp"
#include "esgate/http/response.hpp"
#include "esgate/observability/audit.hpp"
#include "esgate/policy/identity.hpp"
#include "security_state.hpp"

namespace esgate::app {

// What the logs know of a request, as views into it (valid while it is handled).
struct request_facts {
  std::string_view request_id, opaque_id, client_ip, method, path;
};

// The identity fields of a record (user, realm, roles, API key id and name; never a secret).
void set_identity(observability::audit_record& r, const policy::identity& who);
observability::audit_record base_record(observability::audit_event e, const request_facts& f);

void audit_tampered(observability::audit_log& log, const request_facts& f, std::string_view reason,
                    int status);
// anonymous_access_denied for a request without credentials, authentication_failed otherwise
// (with the user name of a Basic attempt or the id of an API key, never the password/secret).
void audit_authentication_failure(observability::audit_log& log, const request_facts& f,
                                  const auth::credentials& creds, std::string_view reason,
                                  int status);
void audit_authentication_success(observability::audit_log& log, const request_facts& f,
                                  const policy::identity& who);
void audit_access(observability::audit_log& log, const request_facts& f,
                  const policy::identity& who, bool granted, std::string_view action,
                  std::span<const std::string> indices, std::string_view reason, int status);

// The index names of the request's path (the expression as the client wrote it, split at commas).
std::vector<std::string> requested_indices(const es::authz_decision& d,
                                           const es::request_target& t);

// The ES transport action of a security API request (for access_granted/denied).
std::string_view security_api_action(std::string_view method,
                                     const std::vector<std::string>& segments);
// security_config_change after a successful create / update / invalidate of API keys: the ids
// (and new key's name) taken from the response, never its `api_key` or `encoded` fields.
void audit_key_change(observability::audit_log& log, const request_facts& f,
                      const policy::identity& who, std::string_view method,
                      const std::vector<std::string>& segments, const http::gateway_response& r);
// security_config_change for a policy reload (reload_security_config, success|failure).
void audit_policy_reload(observability::audit_log& log, bool ok, std::string_view reason);

// The shadow policy's verdict on a request the live policy decided (allow or deny): true =
// would allow, false = would deny, nullopt = not evaluated (the shadow needs the cluster's
// index list and none is at hand, or a routing outcome). Users: their roles compiled from the
// shadow file. API keys: the key's own descriptors limited by the owner's roles from the shadow
// file (and by the creating key's descriptors), compiled per request.
std::optional<bool> shadow_allows(const security_state& sec, const policy::identity& who,
                                  const es::authz_request& live,
                                  const es::cluster_metadata* metadata);

}  // namespace esgate::app
