// `esgate explain` (see explain.hpp). Everything decided here is decided by the gateway's own
// code: es::authorize() and inspect_body() with a trace; this file only gathers the inputs the
// session would have (identity, target, body, cluster names) and prints what came out.
#include "explain.hpp"

#include <hiredis/hiredis.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "body_inspection.hpp"
#include "cluster_metadata.hpp"
#include "esgate/admin/security_api.hpp"
#include "esgate/config/settings.hpp"
#include "esgate/es/authorize.hpp"
#include "esgate/es/body_authorize.hpp"
#include "esgate/keystore/key_record.hpp"
#include "esgate/policy/explain.hpp"
#include "key_identity.hpp"
#include "security_state.hpp"

namespace esgate::app {

namespace json = boost::json;

struct explain_command::state {
  CLI::App* cmd = nullptr;
  std::string config_path, api_key, user, method, path, body_file, resolve_file;
  bool as_json = false;
};

namespace {

using W = es::authz_check::what;

struct config_error {
  std::string message;
};

std::string read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error{std::string("cannot read ") + what + " [" + path + "]"};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// GET <prefix>key:<id> on the configured Redis, synchronously: explain never writes.
// nullopt = no such key.
std::optional<std::string> read_key_record(const config::redis& r, const std::string& id) {
  const timeval tv{2, 0};
  std::unique_ptr<redisContext, decltype(&redisFree)> c(
      redisConnectWithTimeout(r.host.c_str(), r.port, tv), &redisFree);
  if (!c || c->err)
    throw config_error{"cannot connect to Redis at " + r.url + ": " +
                       (c ? std::string(c->errstr) : std::string("out of memory"))};
  redisSetTimeout(c.get(), tv);
  auto command = [&](std::vector<std::string> args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(c.get(), static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (reply == nullptr) throw config_error{"Redis at " + r.url + ": " + c->errstr};
    std::unique_ptr<redisReply, decltype(&freeReplyObject)> owned(reply, &freeReplyObject);
    if (reply->type == REDIS_REPLY_ERROR)
      throw config_error{"Redis at " + r.url + ": " + std::string(reply->str, reply->len)};
    return owned;
  };
  if (!r.password.empty()) {
    if (r.username.empty())
      command({"AUTH", r.password});
    else
      command({"AUTH", r.username, r.password});
  }
  if (r.db != 0) command({"SELECT", std::to_string(r.db)});
  auto reply = command({"GET", r.prefix + "key:" + id});
  if (reply->type == REDIS_REPLY_NIL) return std::nullopt;
  if (reply->type != REDIS_REPLY_STRING)
    throw config_error{"Redis at " + r.url + ": unexpected reply to GET"};
  return std::string(reply->str, reply->len);
}

const char* what_name(W w) {
  switch (w) {
    case W::superuser:
      return "superuser";
    case W::cluster_action:
      return "cluster_action";
    case W::cluster_privilege:
      return "cluster_privilege";
    case W::index_action:
      return "index_action";
    case W::index_action_somewhere:
      return "index_action_by_name";
    case W::index_privilege:
      return "index_privilege_on_all";
  }
  return "?";
}

// The question each check asked, put to one layer (or one single-privilege role).
bool ask(const policy::role_permission& l, const es::authz_check& c) {
  switch (c.w) {
    case W::superuser:
      return l.is_superuser();
    case W::cluster_action:
      return l.allows_cluster(c.action);
    case W::cluster_privilege:
      return l.has_cluster_privilege(c.action);
    case W::index_action:
      return l.allows_index(c.action, c.index);
    case W::index_action_somewhere:
      return l.allows_index_action_somewhere(c.action);
    case W::index_privilege:
      return l.has_index_privilege(c.action, c.index, true);
  }
  return false;
}

std::string describe(const es::authz_check& c) {
  switch (c.w) {
    case W::superuser:
      return "superuser (every privilege on everything)";
    case W::cluster_action:
      return "cluster action [" + c.action + "]";
    case W::cluster_privilege:
      return "cluster privilege [" + c.action + "]";
    case W::index_action:
      return "[" + c.action + "] on index [" + c.index + "]";
    case W::index_action_somewhere:
      return "[" + c.action + "] on some index (checked by name)";
    case W::index_privilege:
      return "index privilege [" + c.action + "] on [" + c.index + "] (restricted included)";
  }
  return {};
}

// Names the permission layers of an identity as the README describes them.
std::string layer_name(const policy::identity& who, std::size_t i,
                       const policy::role_permission* l) {
  if (!who.is_api_key()) return "roles of user [" + who.username + "]";
  if (who.owner_roles.get() == l) return "roles of the key's owner [" + who.username + "]";
  if (i == 0 && !who.api_key_descriptors.empty()) return "the key's role_descriptors";
  return "role_descriptors of the key that created this key";
}

json::object explain_check(const es::authz_check& c, const policy::identity& who) {
  json::object o{{"check", what_name(c.w)}, {"granted", c.granted}};
  if (!c.action.empty())
    o[c.w == W::cluster_privilege || c.w == W::index_privilege ? "privilege" : "action"] = c.action;
  if (!c.index.empty()) o["index"] = c.index;
  json::array layers;
  const auto& ls = who.effective.layers();
  for (std::size_t i = 0; i < ls.size(); ++i) {
    const auto& l = *ls[i];
    json::object lo{{"layer", layer_name(who, i, &l)}, {"granted", ask(l, c)}};
    json::array grants;
    if (lo["granted"].as_bool()) {
      for (const auto& g : policy::granting_privileges(
               l, [&](const policy::role_permission& one) { return ask(one, c); })) {
        json::object go{{"role", g.role},
                        {"privilege", g.privilege},
                        {"kind", g.cluster ? "cluster" : "index"}};
        if (!g.cluster) {
          json::array names;
          for (const auto& n : g.names) names.emplace_back(n);
          go["names"] = std::move(names);
        }
        grants.push_back(std::move(go));
      }
    }
    lo["grants"] = std::move(grants);
    layers.push_back(std::move(lo));
  }
  o["layers"] = std::move(layers);
  return o;
}

const json::value* find(const json::object& o, std::string_view k) {
  auto it = o.find(k);
  return it == o.end() ? nullptr : &it->value();
}

// The {"type","reason"} of an item or an error answer, wherever the shape put it.
const json::object* error_of(const json::value& v) {
  if (!v.is_object()) return nullptr;
  const auto& o = v.as_object();
  if (const auto* e = find(o, "error"); e && e->is_object()) return &e->as_object();
  for (const auto& [k, inner] : o)
    if (const auto* e = error_of(inner)) return e;
  return nullptr;
}

struct outcome {
  std::string decision = "denied";  // granted | partial | denied | rejected | not_evaluated
  int status = 403;
  std::string error_type, reason;
  json::object out;  // the JSON document being built
  std::vector<std::string> notes;
};

class explainer {
 public:
  explicit explainer(explain_command::state& s) : s_(s) {}

  int run() {
    try {
      if (s_.api_key.empty() == s_.user.empty())
        throw usage{"explain: give exactly one of --api-key ID and --user NAME"};
      return evaluate();
    } catch (const usage& e) {
      std::cerr << e.message << "\n";
      return 2;
    } catch (const config_error& e) {
      std::cerr << "explain: " << e.message << "\n";
      return 2;
    }
  }

 private:
  struct usage {
    std::string message;
  };

  int evaluate() {
    for (char& ch : s_.method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    auto loaded = config::load_settings(s_.config_path);
    if (!loaded.ok()) {
      for (auto& d : loaded.errors) std::cerr << d.to_string() << "\n";
      return 2;
    }
    const config::settings& settings = loaded.value;
    auto sec = load_security_state(settings, 0);
    if (!sec.errors.empty()) {
      for (auto& d : sec.errors) std::cerr << d.to_string() << "\n";
      return 2;
    }
    std::string body;
    if (!s_.body_file.empty()) body = read_file(s_.body_file, "the body file");
    std::optional<es::cluster_metadata> md;
    if (!s_.resolve_file.empty()) {
      md = parse_resolve_index(read_file(s_.resolve_file, "the --resolve file"));
      if (!md)
        throw config_error{"[" + s_.resolve_file +
                           "] is not a _resolve/index answer (GET /_resolve/index/*?expand_"
                           "wildcards=all)"};
    }

    outcome r;
    r.out["request"] = json::object{{"method", s_.method}, {"path", s_.path}};
    std::shared_ptr<const policy::identity> who;
    if (!s_.user.empty()) {
      who = sec.state->identity_of(s_.user);
      if (!who) throw config_error{"no user [" + s_.user + "] in " + settings.security.users_file};
    } else {
      auto text = read_key_record(settings.redis, s_.api_key);
      if (!text) return unauthenticated(r, "no API key with id [" + s_.api_key + "] in Redis");
      auto rec = keystore::from_json_text(*text);
      if (!rec) return unauthenticated(r, "the stored record of the key is corrupt");
      const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      if (rec->invalidated) return unauthenticated(r, "the key is invalidated");
      if (rec->expiration && *rec->expiration <= now_ms)
        return unauthenticated(r, "the key has expired");
      who = build_identity(*rec, *sec.state);
      if (!who)
        return unauthenticated(r, "the key's owner [" + rec->username +
                                      "] no longer exists in users.yml (or its stored "
                                      "role_descriptors are invalid)");
      r.notes.push_back("the key's secret is not checked: explain starts from a valid key");
    }
    r.out["identity"] = identity_json(*who);

    const std::string_view path = s_.path;
    const auto bare = path.substr(0, path.find('?'));
    if (bare.starts_with("/_esgate/"))
      return not_evaluated(r,
                           "the gateway serves /_esgate/ endpoints itself (health: anyone; "
                           "metrics: cluster privilege monitor)");
    auto parsed = es::parse_request_target(path);
    if (!parsed) {
      r.decision = "rejected";
      r.status = 400;
      r.error_type = "illegal_argument_exception";
      r.reason = parsed.error().reason;
      return finish(r);
    }
    const es::request_target& t = *parsed;
    if (admin::is_security_api(t.segments))
      return not_evaluated(r,
                           "the gateway's security API (/_security/...) authorizes each call "
                           "itself (manage_api_key, manage_own_api_key...); explain does "
                           "not evaluate it");

    const auto now = std::chrono::system_clock::now();
    es::authz_trace trace;
    es::authz_request ar{s_.method, t, *who, now, nullptr, &trace};
    auto d = es::authorize(ar);
    static const es::cluster_metadata k_none;
    const es::cluster_metadata* names = md ? &*md : &k_none;
    if (d.k == es::authz_decision::kind::need_metadata) {
      r.notes.push_back(
          md ? "wildcards were narrowed against the names in " + s_.resolve_file
             : "wildcards were narrowed against no names: the gateway narrows them against the "
               "cluster's names at request time (pass --resolve FILE with a saved GET "
               "/_resolve/index/*?expand_wildcards=all answer to narrow against those)");
      trace = {};
      ar.metadata = names;
      d = es::authorize(ar);
    }
    if (d.ep != nullptr)
      r.out["endpoint"] = json::object{{"name", d.ep->name}, {"route", d.ep->path}};
    r.out["action"] = d.action;
    using K = es::authz_decision::kind;
    switch (d.k) {
      case K::allow:
        r.decision = "granted";
        r.status = 200;
        break;
      case K::served:
        r.decision = "granted";
        r.status = 200;
        r.notes.push_back("answered by the gateway itself");
        break;
      case K::deny:
        r.decision = "denied";
        r.status = 403;
        r.error_type = d.error_type;
        r.reason = d.reason;
        break;
      default:
        r.decision = "rejected";
        r.status = d.status ? d.status : 400;
        r.error_type = d.error_type;
        r.reason = d.reason;
        break;
    }
    json::array checks;
    for (const auto& c : trace.checks) checks.push_back(explain_check(c, *who));
    r.out["checks"] = std::move(checks);
    if (d.k == K::allow) {
      if (d.empty_result) {
        r.out["forward"] = nullptr;
        r.notes.push_back(
            "nothing the identity may read matches: the gateway answers Elasticsearch's empty "
            "result itself and forwards nothing");
      } else {
        r.out["forward"] = std::string(s_.method) + " " + d.upstream_target;
      }
      if (d.continues != es::context_kind::none)
        r.notes.push_back(
            "continues a context (scroll, PIT, async search, task): only the "
            "identity that opened it through the gateway may use it");
      if (d.inspect != es::body_targets::none || d.check_query_body)
        inspect(r, d, t, *who, body, names, now);
    }
    return finish(r);
  }

  void inspect(outcome& r, const es::authz_decision& d, const es::request_target& t,
               const policy::identity& who, const std::string& body,
               const es::cluster_metadata* names, std::chrono::system_clock::time_point now) {
    if (s_.body_file.empty()) {
      r.notes.push_back(d.inspect != es::body_targets::none
                            ? "the body names its own targets and is authorized item by item: "
                              "pass --body FILE to check its items"
                            : "the body is checked for queries that read other indices (terms "
                              "lookup...): pass --body FILE to check it");
      return;
    }
    auto expand = es::parse_expand_wildcards(
        es::find_query_param(t.query, "expand_wildcards").value_or(std::string_view{}));
    const auto ignore = es::find_query_param(t.query, "ignore_unavailable");
    es::authz_trace body_trace;
    const es::body_target_context ctx{who,
                                      now,
                                      who.effective.is_superuser() ? nullptr : names,
                                      expand ? *expand : es::expand_wildcards{},
                                      ignore && (ignore->empty() || *ignore == "true"),
                                      &body_trace};
    json::array targets;
    const auto inner = make_body_authorizer(ctx);
    const body::target_authorizer recording = [&](std::string_view action,
                                                  std::string_view expression, bool single) {
      auto v = inner(action, expression, single);
      json::object o{{"action", action},
                     {"target", expression},
                     {"granted", v.k == body::target_verdict::kind::allow}};
      if (v.k != body::target_verdict::kind::allow)
        o["error"] = json::object{{"type", v.type}, {"reason", v.reason}};
      targets.push_back(std::move(o));
      return v;
    };
    const auto ins = inspect_body(d, t, body, ctx, recording);
    r.out["body_targets"] = std::move(targets);
    json::array body_checks;
    for (const auto& c : body_trace.checks) body_checks.push_back(explain_check(c, who));
    r.out["body_checks"] = std::move(body_checks);

    std::vector<std::pair<std::size_t, json::value>> denied;
    std::size_t total = ins.items;
    if (ins.k == inspection::kind::answer) {
      boost::system::error_code ec;
      auto v = json::parse(ins.answer.body, ec);
      if (ins.answer.status != 200) {
        r.decision = ins.answer.status == 403 ? "denied" : "rejected";
        r.status = ins.answer.status;
        if (const auto* e = ec ? nullptr : error_of(v)) {
          r.error_type = e->contains("type") ? std::string(e->at("type").as_string()) : "";
          r.reason = e->contains("reason") ? std::string(e->at("reason").as_string()) : "";
        }
        r.out["forward"] = nullptr;
        return;
      }
      // Every item denied: the gateway answers the items itself, nothing is forwarded.
      r.decision = "denied";
      r.out["forward"] = nullptr;
      if (!ec && v.is_object()) {
        for (const auto& [k, a] : v.as_object()) {
          if (!a.is_array()) continue;
          total = a.as_array().size();
          for (std::size_t i = 0; i < total; ++i) denied.emplace_back(i, a.as_array()[i]);
        }
      }
    } else if (ins.rewrite) {
      r.decision = "partial";
      for (const auto& ins_item : ins.rewrite->inserts)
        denied.emplace_back(ins_item.position, ins_item.item);
    }
    json::array items;
    std::size_t next = 0;
    for (std::size_t i = 0; i < total; ++i) {
      json::object o{{"item", i}};
      if (next < denied.size() && denied[next].first == i) {
        o["granted"] = false;
        if (const auto* e = error_of(denied[next].second)) o["error"] = *e;
        ++next;
      } else {
        o["granted"] = true;
      }
      items.push_back(std::move(o));
    }
    const bool per_item = d.inspect == es::body_targets::bulk ||
                          d.inspect == es::body_targets::msearch ||
                          d.inspect == es::body_targets::docs;
    if (per_item) r.out["items"] = std::move(items);
  }

  static json::object identity_json(const policy::identity& who) {
    json::array roles;
    for (const auto& n : who.roles) roles.emplace_back(n);
    json::object o{{"subject", who.subject()}, {"username", who.username}, {"roles", roles}};
    if (who.is_api_key()) {
      o["api_key_id"] = who.api_key_id;
      o["api_key_name"] = who.api_key_name;
    }
    return o;
  }

  int unauthenticated(outcome& r, std::string why) {
    r.decision = "rejected";
    r.status = 401;
    r.error_type = "security_exception";
    r.reason = "unable to authenticate with provided credentials (" + why + ")";
    return finish(r);
  }

  int not_evaluated(outcome& r, std::string why) {
    r.decision = "not_evaluated";
    r.status = 0;
    r.notes.push_back(std::move(why));
    return finish(r);
  }

  int finish(outcome& r) {
    r.out["decision"] = r.decision;
    if (r.status != 0) r.out["status"] = r.status;
    if (!r.reason.empty() || !r.error_type.empty())
      r.out["error"] = json::object{{"type", r.error_type}, {"reason", r.reason}};
    json::array notes;
    for (const auto& n : r.notes) notes.emplace_back(n);
    r.out["notes"] = std::move(notes);
    if (s_.as_json)
      std::cout << json::serialize(r.out) << "\n";
    else
      print_text(r.out);
    if (r.decision == "granted") return 0;
    if (r.decision == "not_evaluated") return 3;
    return 1;
  }

  static std::string str(const json::object& o, std::string_view k) {
    const auto* v = find(o, k);
    if (v == nullptr || v->is_null()) return "-";
    if (v->is_string()) return std::string(v->get_string());
    return json::serialize(*v);
  }

  static void print_checks(const json::value* checks, std::ostream& os) {
    if (checks == nullptr || !checks->is_array()) return;
    for (const auto& cv : checks->as_array()) {
      const auto& c = cv.as_object();
      const bool granted = c.at("granted").as_bool();
      // Not being a superuser is the normal case: not worth a line.
      if (!granted && str(c, "check") == "superuser") continue;
      es::authz_check ck;
      const std::string kind = str(c, "check");
      ck.w = kind == "superuser"                ? W::superuser
             : kind == "cluster_action"         ? W::cluster_action
             : kind == "cluster_privilege"      ? W::cluster_privilege
             : kind == "index_action_by_name"   ? W::index_action_somewhere
             : kind == "index_privilege_on_all" ? W::index_privilege
                                                : W::index_action;
      ck.action = c.contains("action") ? str(c, "action") : str(c, "privilege");
      ck.index = c.contains("index") ? str(c, "index") : "";
      os << "  " << (granted ? "granted  " : "DENIED   ") << describe(ck) << "\n";
      for (const auto& lv : c.at("layers").as_array()) {
        const auto& l = lv.as_object();
        os << "           " << str(l, "layer") << ": ";
        const auto& grants = l.at("grants").as_array();
        if (!l.at("granted").as_bool()) {
          os << "no role grants it\n";
          continue;
        }
        std::string sep;
        for (const auto& gv : grants) {
          const auto& g = gv.as_object();
          os << sep << "role [" << str(g, "role") << "] " << str(g, "kind") << " privilege ["
             << str(g, "privilege") << "]";
          if (const auto* n = find(g, "names"); n && n->is_array()) {
            std::string list;
            for (const auto& x : n->as_array()) (list += list.empty() ? "" : ",") += x.as_string();
            os << " on [" << list << "]";
          }
          sep = "; ";
        }
        os << "\n";
      }
    }
  }

  static void print_text(const json::object& o) {
    auto& os = std::cout;
    os << "decision  " << str(o, "decision");
    if (const auto* st = find(o, "status")) os << " (HTTP " << json::serialize(*st) << ")";
    os << "\n";
    if (const auto* e = find(o, "error"); e && e->is_object()) {
      os << "error     " << str(e->as_object(), "type") << "\n";
      os << "reason    " << str(e->as_object(), "reason") << "\n";
    }
    if (const auto* id = find(o, "identity"); id && id->is_object())
      os << "identity  " << str(id->as_object(), "subject") << "\n";
    if (const auto* ep = find(o, "endpoint"); ep && ep->is_object())
      os << "endpoint  " << str(ep->as_object(), "name") << " (" << str(ep->as_object(), "route")
         << ")\n";
    if (const auto* a = find(o, "action"); a && a->is_string() && !a->as_string().empty())
      os << "action    " << a->as_string() << "\n";
    if (o.contains("forward")) os << "forward   " << str(o, "forward") << "\n";
    if (const auto* c = find(o, "checks"); c && c->is_array() && !c->as_array().empty()) {
      os << "checks\n";
      print_checks(c, os);
    }
    if (const auto* bt = find(o, "body_targets"); bt && bt->is_array()) {
      os << "body targets\n";
      for (const auto& tv : bt->as_array()) {
        const auto& tt = tv.as_object();
        os << "  " << (tt.at("granted").as_bool() ? "granted  " : "DENIED   ") << "["
           << str(tt, "action") << "] on [" << str(tt, "target") << "]\n";
      }
      if (const auto* bc = find(o, "body_checks");
          bc && bc->is_array() && !bc->as_array().empty()) {
        os << "body checks\n";
        print_checks(bc, os);
      }
    }
    if (const auto* items = find(o, "items"); items && items->is_array()) {
      os << "items\n";
      for (const auto& iv : items->as_array()) {
        const auto& it = iv.as_object();
        os << "  #" << str(it, "item") << "  "
           << (it.at("granted").as_bool() ? "granted" : "DENIED");
        if (const auto* e = find(it, "error"); e && e->is_object())
          os << "  " << str(e->as_object(), "type") << ": " << str(e->as_object(), "reason");
        os << "\n";
      }
    }
    if (const auto* n = find(o, "notes"); n && n->is_array())
      for (const auto& x : n->as_array()) os << "note      " << x.as_string() << "\n";
  }

  explain_command::state& s_;
};

}  // namespace

explain_command::explain_command(CLI::App& parent) : s_(std::make_unique<state>()) {
  auto& s = *s_;
  s.cmd = parent.add_subcommand(
      "explain", "dry run: how the gateway would authorize a request (nothing is sent)");
  s.cmd->add_option("-c,--config", s.config_path, "configuration file")->required();
  auto* key =
      s.cmd->add_option("--api-key", s.api_key, "API key id (its record is read from Redis)");
  auto* user = s.cmd->add_option("--user", s.user, "user from users.yml");
  key->excludes(user);
  s.cmd->add_option("--body", s.body_file, "request body file (bulk, msearch, mget, search...)");
  s.cmd->add_option("--resolve", s.resolve_file,
                    "saved GET /_resolve/index/*?expand_wildcards=all answer to narrow "
                    "wildcards against");
  s.cmd->add_flag("--json", s.as_json, "print the explanation as JSON");
  s.cmd->add_option("method", s.method, "HTTP method")->required();
  s.cmd->add_option("path", s.path, "request target, e.g. /books/_search?size=5")->required();
}

explain_command::~explain_command() = default;

bool explain_command::selected() const { return s_->cmd->parsed(); }

int explain_command::run() { return explainer(*s_).run(); }

}  // namespace esgate::app
