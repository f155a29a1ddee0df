// esgate-fuzz-deps: esgate::es
// Fuzzes authorize() with random targets, methods and identities. Input layout: byte 0 picks the
// identity, byte 1 the method, byte 2 bit 0 whether metadata is available; the rest is the raw
// request target. Invariants (abort on violation):
//  - decisions are well-formed (status matches kind, denials carry ES's subject);
//  - an allow for a non-superuser never forwards a pattern, a date-math expression or a name the
//    identity may not access: the upstream target routes to the same API and every name in its
//    index/alias parameters is concrete and authorized for the decided action (or is ES's
//    "no indices" placeholder `*,-*`).
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/es/authorize.hpp"
#include "esgate/es/index_expression.hpp"
#include "esgate/policy/permission.hpp"

namespace es = esgate::es;
namespace policy = esgate::policy;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

constexpr const char* k_roles = R"(
books-read-only:
  indices:
    - names: ["books"]
      privileges: ["read"]
logs-writer:
  cluster: ["monitor"]
  indices:
    - names: ["logs-*", "/metrics-[0-9]+/"]
      privileges: ["create_doc", "create_index"]
cluster-manager:
  cluster: ["manage"]
  indices:
    - names: ["*"]
      privileges: ["all"]
owner-all:
  cluster: ["all"]
  indices:
    - names: ["*"]
      privileges: ["all"]
ops:
  cluster: ["manage"]
  indices:
    - names: ["*"]
      privileges: ["all"]
      allow_restricted_indices: true
mixed:
  cluster: ["monitor"]
  indices:
    - names: [".kibana_1", "books*", "logs-a"]
      privileges: ["read", "view_index_metadata", "monitor"]
    - names: ["metrics-*"]
      privileges: ["manage", "write"]
)";

struct fixture {
  std::vector<policy::identity> who;
  es::cluster_metadata md{
      {"books", "secret", "secret-2", "logs-a", "logs-b", "metrics-1", "hidden-idx", ".security-7",
       ".kibana_1", ".ds-logs-ds-2024.03.15-000001"},
      {"books-alias", "secret-alias", ".security"},
      {"logs-ds"},
      {"hidden-idx", ".security-7", ".kibana_1", ".ds-logs-ds-2024.03.15-000001", ".security"}};

  fixture() {
    auto res = policy::parse_roles_yaml(k_roles, "roles.yml");
    check(res.ok());
    const auto user = [&](const char* name, std::vector<std::string> roles) {
      policy::identity i;
      i.username = name;
      i.roles = std::move(roles);
      i.effective = policy::permission(policy::compile_roles(i.roles, res.roles));
      return i;
    };
    who.push_back(user("alice", {"books-read-only"}));
    who.push_back(user("logger", {"logs-writer"}));
    who.push_back(user("manny", {"cluster-manager"}));
    who.push_back(user("ops", {"ops"}));
    who.push_back(user("mix", {"mixed"}));
    who.push_back(user("admin", {"superuser"}));
    policy::identity key;
    key.type = policy::identity::kind::api_key;
    key.username = "owner";
    key.api_key_id = "VuaCfGcBCdbkQm-e5aOx";
    key.api_key_descriptors = {res.roles.at("books-read-only")};
    key.owner_roles = policy::compile_roles({"owner-all"}, res.roles);
    key.effective = policy::api_key_permission(key.api_key_descriptors, {key.owner_roles});
    who.push_back(std::move(key));
  }
};

constexpr std::array<std::string_view, 7> k_methods{"GET",  "POST",    "PUT",  "DELETE",
                                                    "HEAD", "OPTIONS", "PATCH"};

// Every expression parameter of the forwarded route is concrete and authorized.
void check_forwarded(const es::authz_decision& d, std::string_view method,
                     const policy::identity& who, std::chrono::system_clock::time_point now) {
  if (d.ep == nullptr || d.empty_result) return;
  // `/{index}/_bulk`, `_msearch`, `_mget`: the path index is only the items' default; ES checks
  // the path name-only (reference §9) and every item is authorized on its own target in the body.
  if (d.inspect == es::body_targets::bulk || d.inspect == es::body_targets::msearch ||
      d.inspect == es::body_targets::docs)
    return;
  if (d.ep->kind != es::endpoint_kind::index && d.ep->kind != es::endpoint_kind::index_name_only)
    return;
  auto up = es::parse_request_target(d.upstream_target);
  check(up.has_value());
  auto m = es::match_route(method, up->segments);
  check(m.has_value());
  check(m->ep->name == d.ep->name);
  for (const std::string_view param : {m->ep->index_param, m->ep->second_index_param}) {
    if (param.empty()) continue;
    const auto value = m->param(param);
    check(value.has_value() && !value->empty());
    if (*value == "*,-*") continue;
    auto items = es::parse_index_expression(*value, now);
    check(items.has_value());
    for (const auto& item : *items) {
      check(item.kind == es::item_kind::literal);
      check(who.effective.allows_index(d.action, item.text));
      if (!d.ep->target_action.empty())
        check(who.effective.allows_index(d.ep->target_action, item.text));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fixture f;
  if (size < 3) return 0;
  const auto& who = f.who[data[0] % f.who.size()];
  const std::string_view method = k_methods[data[1] % k_methods.size()];
  const bool with_metadata = (data[2] & 1) != 0;
  const std::string_view raw(reinterpret_cast<const char*>(data + 3), size - 3);
  const auto now = std::chrono::system_clock::time_point{} + std::chrono::seconds{1710542730};

  auto target = es::parse_request_target(raw);
  if (!target) return 0;
  const es::authz_request req{method, *target, who, now, with_metadata ? &f.md : nullptr};
  const auto d = es::authorize(req);
  using kind = es::authz_decision::kind;
  switch (d.k) {
    case kind::allow:
      check(d.status == 200);
      check(d.empty_result ? d.upstream_target.empty() : !d.upstream_target.empty());
      if (!who.effective.is_superuser()) check_forwarded(d, method, who, now);
      if (d.empty_result) check(!es::empty_response_body(*d.ep, &target->query).empty());
      break;
    case kind::deny:
      check(d.status == 403);
      check(d.reason.find("is unauthorized for " + who.subject()) != std::string::npos);
      break;
    case kind::need_metadata:
      check(!with_metadata);
      break;
    case kind::bad_request:
      check(d.status == 400 && !d.reason.empty());
      break;
    case kind::not_found:
      check(d.status == 404);
      break;
    case kind::method_not_allowed:
      check(d.status == 405);
      break;
    case kind::served:
      check(d.ep != nullptr && d.ep->kind == es::endpoint_kind::served);
      break;
  }
  return 0;
}
