#include "esgate/policy/permission.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "esgate/policy/index_pattern.hpp"
#include "esgate/policy/privileges.hpp"
#include "glob.hpp"
#include "pattern_set.hpp"
#include "privilege_tables.hpp"

namespace esgate::policy {

using detail::cluster_mask;
using detail::glob;
using detail::index_mask;
using detail::lang;
using detail::lang_term;

namespace {

// Role entries with the same privileges share one group: their names are merged into one matcher.
struct index_group {
  index_name_matcher names = index_name_matcher::compile_lenient({}, false);
  std::vector<std::string> name_texts;
  index_mask privileges = 0;
  std::vector<std::string> raw_texts;  // raw action patterns, "<action>*"
  std::vector<glob> raw;
  bool allow_restricted = false;

  bool grants(index_mask action_mask, std::string_view action) const {
    if (privileges & action_mask) return true;
    for (const glob& g : raw)
      if (g.matches(action)) return true;
    return false;
  }
};

std::size_t all_index_bit() {
  static const std::size_t b = detail::index_bit("all");
  return b;
}
std::size_t all_cluster_bit() {
  static const std::size_t b = detail::cluster_bit("all");
  return b;
}
std::size_t own_key_bit() {
  static const std::size_t b = detail::cluster_bit("manage_own_api_key");
  return b;
}

// The privileges that grant an action on the `::failures` selector: `all`, and
// read_failure_store / manage_failure_store for the actions read / manage grant on data.
index_mask failure_store_mask(index_mask data_mask) {
  static const std::size_t read = detail::index_bit("read"), manage = detail::index_bit("manage"),
                           read_fs = detail::index_bit("read_failure_store"),
                           manage_fs = detail::index_bit("manage_failure_store");
  index_mask m = data_mask & (index_mask{1} << all_index_bit());
  if (data_mask & (index_mask{1} << read)) m |= index_mask{1} << read_fs;
  if (data_mask & (index_mask{1} << manage)) m |= index_mask{1} << manage_fs;
  return m;
}

std::string escape_glob(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (c == '*' || c == '?' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Past this many groups (distinct privilege sets), allows_index finds the groups whose names
// match through one role-wide index instead of asking each group in turn.
constexpr std::size_t max_scanned_groups = 8;

struct string_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// Which groups match an index name, in time independent of the number of groups and names:
// literals in one hash map, every wildcard/regex in one of two RE2::Sets (restricted names are
// only run against the groups with allow_restricted_indices).
struct group_index {
  std::unordered_map<std::string, std::vector<std::uint32_t>, string_hash, std::equal_to<>>
      literals;
  detail::pattern_set unrestricted_only;
  std::vector<std::uint32_t> unrestricted_owner;  // pattern id → group
  detail::pattern_set restricted_ok;
  std::vector<std::uint32_t> restricted_owner;
  bool usable = true;

  explicit group_index(const std::vector<index_group>& groups) {
    for (std::uint32_t gi = 0; gi < groups.size(); ++gi) {
      const index_group& g = groups[gi];
      for (const std::string& l : g.names.literals()) literals[l].push_back(gi);
      detail::pattern_set& set = g.allow_restricted ? restricted_ok : unrestricted_only;
      std::vector<std::uint32_t>& owner =
          g.allow_restricted ? restricted_owner : unrestricted_owner;
      auto add = [&](const std::string& re2_pattern) {
        if (set.add(re2_pattern) < 0) usable = false;
        owner.push_back(gi);
      };
      if (g.names.matches_all_unrestricted()) add("(?s).*");
      for (const index_pattern& w : g.names.wildcards()) add(wildcard_to_re2(w.text()));
      for (const index_pattern& r : g.names.regexes()) add(r.re2_pattern());
    }
    unrestricted_only.compile();
    restricted_ok.compile();
    if (unrestricted_only.size() > 0 && !unrestricted_only.ok()) usable = false;
    if (restricted_ok.size() > 0 && !restricted_ok.ok()) usable = false;
  }

  // Does some group whose names match `index` satisfy `granted`? nullopt: cannot tell, scan.
  template <class Granted>
  std::optional<bool> any_matching(const std::vector<index_group>& groups, std::string_view index,
                                   Granted&& granted) const {
    if (!usable) return std::nullopt;
    if (auto it = literals.find(index); it != literals.end())
      for (std::uint32_t gi : it->second)
        if (granted(groups[gi])) return true;
    thread_local std::vector<int> ids;  // reused: no allocation once warm
    auto run = [&](const detail::pattern_set& set,
                   const std::vector<std::uint32_t>& owner) -> std::optional<bool> {
      if (set.size() == 0) return false;
      const auto a = set.matching_ids(index, ids);
      if (a == detail::pattern_set::answer::unknown) return std::nullopt;
      for (int id : ids)
        if (granted(groups[owner[static_cast<std::size_t>(id)]])) return true;
      return false;
    };
    auto r = run(restricted_ok, restricted_owner);
    if (!r || *r || is_restricted_index(index)) return r;
    return run(unrestricted_only, unrestricted_owner);
  }
};

}  // namespace

struct role_permission::data {
  std::vector<role_descriptor> descriptors;
  cluster_mask cluster;  // named cluster privileges held (incl. manage_own_api_key's bit)
  std::vector<glob> cluster_raw;
  std::vector<index_group> groups;
  std::unique_ptr<const group_index> index;  // only past max_scanned_groups groups
  bool superuser = false;
  bool reads_everything = false;  // see reads_everything()
};

role_permission::role_permission(std::unique_ptr<data> d) : d_(std::move(d)) {
  d_->reads_everything = has_index_privilege("read", "*", true);
}

bool role_permission::reads_everything() const { return d_->reads_everything; }
role_permission::~role_permission() = default;

const std::vector<role_descriptor>& role_permission::descriptors() const { return d_->descriptors; }

std::shared_ptr<const role_permission> compile(const std::vector<role_descriptor>& roles) {
  auto d = std::make_unique<role_permission::data>();
  d->descriptors = roles;
  const auto& ct = detail::cluster_table();
  const auto& it = detail::index_table();
  std::vector<std::string> cluster_raw;
  for (const role_descriptor& r : roles) {
    for (const std::string& c : r.cluster) {
      const std::string n = detail::to_lower_ascii(c);
      if (auto bit = ct.find(n))
        d->cluster.set(*bit);
      else if (auto raw = detail::raw_cluster_action_pattern(n))
        cluster_raw.push_back(*raw);
    }
    for (const index_privileges_entry& e : r.indices) {
      index_mask mask = 0;
      std::vector<std::string> raws;
      for (const std::string& p : e.privileges) {
        const std::string n = detail::to_lower_ascii(p);
        if (auto bit = it.find(n))
          mask |= index_mask{1} << *bit;
        else if (auto raw = detail::raw_index_action_pattern(n))
          raws.push_back(*raw);
      }
      if (mask == 0 && raws.empty()) continue;
      std::sort(raws.begin(), raws.end());
      raws.erase(std::unique(raws.begin(), raws.end()), raws.end());
      auto g = std::find_if(d->groups.begin(), d->groups.end(), [&](const index_group& x) {
        return x.privileges == mask && x.raw_texts == raws &&
               x.allow_restricted == e.allow_restricted_indices;
      });
      if (g == d->groups.end()) {
        index_group ng;
        ng.privileges = mask;
        ng.raw_texts = raws;
        ng.allow_restricted = e.allow_restricted_indices;
        d->groups.push_back(std::move(ng));
        g = std::prev(d->groups.end());
      }
      g->name_texts.insert(g->name_texts.end(), e.names.begin(), e.names.end());
    }
  }
  std::sort(cluster_raw.begin(), cluster_raw.end());
  cluster_raw.erase(std::unique(cluster_raw.begin(), cluster_raw.end()), cluster_raw.end());
  for (const auto& r : cluster_raw) d->cluster_raw.emplace_back(r);
  for (index_group& g : d->groups) {
    g.names = index_name_matcher::compile_lenient(g.name_texts, g.allow_restricted);
    for (const auto& r : g.raw_texts) g.raw.emplace_back(r);
  }
  if (d->groups.size() > max_scanned_groups) d->index = std::make_unique<group_index>(d->groups);
  d->superuser = d->cluster.test(all_cluster_bit()) &&
                 std::any_of(d->groups.begin(), d->groups.end(), [](const index_group& g) {
                   return (g.privileges & (index_mask{1} << all_index_bit())) &&
                          g.names.matches_all_unrestricted() && g.allow_restricted;
                 });
  return std::make_shared<const role_permission>(std::move(d));
}

std::shared_ptr<const role_permission> superuser_permission() {
  static const auto p = compile({superuser_descriptor()});
  return p;
}

std::shared_ptr<const role_permission> compile_roles(
    const std::vector<std::string>& role_names,
    const std::map<std::string, role_descriptor, std::less<>>& roles,
    std::vector<std::string>* missing) {
  std::vector<role_descriptor> found;
  for (const std::string& n : role_names) {
    if (n == superuser_role_name) {
      found.push_back(superuser_descriptor());
      continue;
    }
    auto it = roles.find(n);
    if (it != roles.end())
      found.push_back(it->second);
    else if (missing)
      missing->push_back(n);
  }
  return compile(found);
}

// ---- request-time checks (no allocation) ---------------------------------------------------

bool role_permission::allows_cluster(std::string_view action) const {
  if (d_->superuser) return true;
  cluster_mask m = detail::cluster_mask_for(action) & d_->cluster;
  m.reset(own_key_bit());
  if (m.any()) return true;
  for (const glob& g : d_->cluster_raw)
    if (g.matches(action)) return true;
  return false;
}

bool role_permission::allows_own_api_key_action(std::string_view action) const {
  if (allows_cluster(action)) return true;
  return d_->cluster.test(own_key_bit()) && detail::cluster_mask_for(action).test(own_key_bit());
}

bool role_permission::allows_index(std::string_view action, std::string_view index) const {
  if (d_->superuser) return true;
  index_mask am = detail::index_mask_for(action);
  // Selectors (ref §7.4): `name::data` is the data of `name`; `name::failures` is its failure
  // store, reachable only through `all` or the failure-store privileges. `:` cannot occur in a
  // real index name, so anything else with `::` is denied rather than matched as a name.
  const std::size_t sel = index.find("::");
  bool failures = false;
  if (sel != std::string_view::npos) {
    const std::string_view selector = index.substr(sel + 2);
    index = index.substr(0, sel);
    if (selector == "failures")
      failures = true;
    else if (selector != "data")
      return false;
  }
  if (failures) am = failure_store_mask(am);
  auto granted = [&](const index_group& g) {
    return failures ? (g.privileges & am) != 0 : g.grants(am, action);
  };
  if (d_->index)
    if (auto r = d_->index->any_matching(d_->groups, index, granted)) return *r;
  for (const index_group& g : d_->groups)
    if (granted(g) && g.names.matches(index)) return true;
  return false;
}

bool role_permission::allows_index_action_somewhere(std::string_view action) const {
  if (d_->superuser) return true;
  const index_mask am = detail::index_mask_for(action);
  for (const index_group& g : d_->groups)
    if (!g.name_texts.empty() && g.grants(am, action)) return true;
  return false;
}

bool role_permission::is_superuser() const { return d_->superuser; }

// ---- subset checks (management-time; may allocate) -----------------------------------------

namespace {

void add_terms(lang& out, const lang& in) { out.insert(out.end(), in.begin(), in.end()); }

template <class Table>
void add_bits(lang& out, const Table& t, const std::vector<std::size_t>& bits) {
  for (std::size_t b : bits) add_terms(out, t.defs[b].actions);
}

void add_globs(lang& out, const std::vector<glob>& globs) {
  for (const glob& g : globs) out.push_back(lang_term{{&g}, {}});
}

std::vector<std::size_t> bits_of(const cluster_mask& m) {
  std::vector<std::size_t> v;
  for (std::size_t i = 0; i < m.size(); ++i)
    if (m.test(i)) v.push_back(i);
  return v;
}

std::vector<std::size_t> bits_of(index_mask m) {
  std::vector<std::size_t> v;
  for (std::size_t i = 0; i < 32; ++i)
    if (m & (index_mask{1} << i)) v.push_back(i);
  return v;
}

bool proven(const lang& a, const lang& b) {
  return detail::lang_subset(a, b) == detail::subset_answer::yes;
}

// Is every action of `want_bits` + `want_raw` granted by cluster privileges `held` + `held_raw`?
bool cluster_covers(const cluster_mask& held, const std::vector<glob>& held_raw,
                    const cluster_mask& want, const std::vector<glob>& want_raw) {
  const auto& t = detail::cluster_table();
  if (held.test(all_cluster_bit())) return true;
  std::vector<std::size_t> open_uncond;  // not implied by a single held privilege
  bool need_own = false;
  const auto held_bits = bits_of(held);
  for (std::size_t q : bits_of(want)) {
    bool implied = false;
    for (std::size_t p : held_bits)
      if (t.implies[p][q]) implied = true;
    if (implied) continue;
    if (t.defs[q].own_api_keys)
      need_own = true;
    else
      open_uncond.push_back(q);
  }
  if (!open_uncond.empty() || !want_raw.empty()) {
    lang a, b;
    add_bits(a, t, open_uncond);
    add_globs(a, want_raw);
    std::vector<std::size_t> uncond;
    for (std::size_t p : held_bits)
      if (!t.defs[p].own_api_keys) uncond.push_back(p);
    add_bits(b, t, uncond);
    add_globs(b, held_raw);
    if (!proven(a, b)) return false;
  }
  if (need_own) {
    lang a, b;
    add_bits(a, t, {own_key_bit()});
    add_bits(b, t, held_bits);
    add_globs(b, held_raw);
    if (!proven(a, b)) return false;
  }
  return true;
}

// Does index group `g` cover every name of `req` (restricted names only when allow_restricted)?
bool group_covers(const index_group& g, const index_pattern& req, bool allow_restricted) {
  const bool restricted_ok = g.allow_restricted || !allow_restricted;
  switch (req.type()) {
    case index_pattern::kind::literal:
      return g.names.matches(req.wildcard()->literal_value());
    case index_pattern::kind::regex:
      for (const index_pattern& r : g.names.regexes())
        if (r.text() == req.text() && restricted_ok) return true;
      break;
    default:
      for (const index_pattern& w : g.names.wildcards())
        if (w.text() == req.text() && restricted_ok) return true;
      break;
  }
  if (g.names.matches_all_unrestricted() && restricted_ok) return true;
  // Exact check over the wildcard parts; a regex request is widened to `*` (sound), regex
  // entries are left out (sound: they only make the role wider).
  const glob& dot = detail::glob_dot_prefixed();
  const glob* want =
      req.type() == index_pattern::kind::regex ? &detail::glob_match_all() : req.wildcard();
  lang a{lang_term{{want}, {}}};
  if (!allow_restricted) a.front().exclude.push_back(&dot);
  std::vector<glob> literal_globs;
  literal_globs.reserve(g.names.literals().size());
  for (const auto& l : g.names.literals()) literal_globs.emplace_back(escape_glob(l));
  lang b;
  add_globs(b, literal_globs);
  lang_term wild;
  for (const index_pattern& w : g.names.wildcards()) wild.include.push_back(w.wildcard());
  if (g.names.matches_all_unrestricted()) wild.include.push_back(&detail::glob_match_all());
  if (!g.allow_restricted) wild.exclude.push_back(&dot);
  if (!wild.include.empty()) b.push_back(std::move(wild));
  return proven(a, b);
}

// Is every (index action of want_mask/want_raw) × (name of req) granted by some groups?
bool index_covers(const std::vector<index_group>& groups, const index_pattern& req,
                  bool allow_restricted, index_mask want_mask, const std::vector<glob>& want_raw) {
  const auto& t = detail::index_table();
  index_mask held = 0;
  std::vector<const glob*> held_raw;
  for (const index_group& g : groups) {
    if (!group_covers(g, req, allow_restricted)) continue;
    held |= g.privileges;
    for (const glob& r : g.raw) held_raw.push_back(&r);
  }
  if (held & (index_mask{1} << all_index_bit())) return true;
  std::vector<std::size_t> open;
  const auto held_bits = bits_of(held);
  for (std::size_t q : bits_of(want_mask)) {
    bool implied = false;
    for (std::size_t p : held_bits)
      if (t.implies[p][q]) implied = true;
    if (implied) continue;
    if (t.defs[q].failure_store) return false;  // only the privilege itself or `all`
    open.push_back(q);
  }
  if (open.empty() && want_raw.empty()) return true;
  lang a, b;
  add_bits(a, t, open);
  add_globs(a, want_raw);
  add_bits(b, t, held_bits);
  for (const glob* r : held_raw) b.push_back(lang_term{{r}, {}});
  return proven(a, b);
}

}  // namespace

bool role_permission::has_cluster_privilege(std::string_view name) const {
  const std::string n = detail::to_lower_ascii(name);
  cluster_mask want;
  std::vector<glob> want_raw;
  if (auto bit = detail::cluster_table().find(n))
    want.set(*bit);
  else if (auto raw = detail::raw_cluster_action_pattern(n))
    want_raw.emplace_back(*raw);
  else
    return false;
  if (d_->superuser) return true;
  return cluster_covers(d_->cluster, d_->cluster_raw, want, want_raw);
}

bool role_permission::has_index_privilege(std::string_view privilege,
                                          std::string_view index_or_pattern,
                                          bool allow_restricted) const {
  const std::string n = detail::to_lower_ascii(privilege);
  index_mask want = 0;
  std::vector<glob> want_raw;
  if (auto bit = detail::index_table().find(n))
    want = index_mask{1} << *bit;
  else if (auto raw = detail::raw_index_action_pattern(n))
    want_raw.emplace_back(*raw);
  else
    return false;
  auto req = index_pattern::compile(index_or_pattern);
  const auto* p = std::get_if<index_pattern>(&req);
  if (!p) return false;
  if (d_->superuser) return true;
  return index_covers(d_->groups, *p, allow_restricted, want, want_raw);
}

// ---- permission (intersection of layers) ----------------------------------------------------

permission::permission(std::shared_ptr<const role_permission> layer) {
  if (layer) layers_.push_back(std::move(layer));
}

permission::permission(std::vector<std::shared_ptr<const role_permission>> layers) {
  for (auto& l : layers)
    if (l) layers_.push_back(std::move(l));
}

permission permission::limited_by(std::shared_ptr<const role_permission> layer) const {
  permission p = *this;
  if (layer) p.layers_.push_back(std::move(layer));
  return p;
}

namespace {
template <class F>
bool all_layers(const std::vector<std::shared_ptr<const role_permission>>& layers, F&& f) {
  if (layers.empty()) return false;
  for (const auto& l : layers)
    if (!f(*l)) return false;
  return true;
}
}  // namespace

bool permission::allows_cluster(std::string_view action) const {
  return all_layers(layers_, [&](const role_permission& l) { return l.allows_cluster(action); });
}
bool permission::allows_own_api_key_action(std::string_view action) const {
  return all_layers(layers_,
                    [&](const role_permission& l) { return l.allows_own_api_key_action(action); });
}
bool permission::allows_index(std::string_view action, std::string_view index) const {
  return all_layers(layers_,
                    [&](const role_permission& l) { return l.allows_index(action, index); });
}
bool permission::allows_index_action_somewhere(std::string_view action) const {
  return all_layers(
      layers_, [&](const role_permission& l) { return l.allows_index_action_somewhere(action); });
}
bool permission::is_superuser() const {
  return all_layers(layers_, [](const role_permission& l) { return l.is_superuser(); });
}
bool permission::reads_everything() const {
  return all_layers(layers_, [](const role_permission& l) { return l.reads_everything(); });
}
bool permission::has_cluster_privilege(std::string_view name) const {
  return all_layers(layers_,
                    [&](const role_permission& l) { return l.has_cluster_privilege(name); });
}
bool permission::has_index_privilege(std::string_view privilege, std::string_view index_or_pattern,
                                     bool allow_restricted) const {
  return all_layers(layers_, [&](const role_permission& l) {
    return l.has_index_privilege(privilege, index_or_pattern, allow_restricted);
  });
}

permission api_key_permission(const std::vector<role_descriptor>& key_descriptors,
                              std::vector<std::shared_ptr<const role_permission>> limited_by) {
  std::vector<std::shared_ptr<const role_permission>> layers;
  if (!key_descriptors.empty()) layers.push_back(compile(key_descriptors));
  for (auto& l : limited_by) layers.push_back(std::move(l));
  return permission(std::move(layers));
}

bool is_subset_of(const std::vector<role_descriptor>& requested, const permission& holder) {
  const auto req = compile(requested);
  const role_permission::data& r = req->internals();
  const bool grants_nothing = r.cluster.none() && r.cluster_raw.empty() && r.groups.empty();
  if (grants_nothing) return true;
  if (holder.layers().empty()) return false;
  for (const auto& layer : holder.layers()) {
    const role_permission::data& h = layer->internals();
    if (h.superuser) continue;
    if ((r.cluster.any() || !r.cluster_raw.empty()) &&
        !cluster_covers(h.cluster, h.cluster_raw, r.cluster, r.cluster_raw))
      return false;
    for (const index_group& g : r.groups) {
      for (const std::string& name : g.name_texts) {
        auto p = index_pattern::compile(name);
        const auto* ip = std::get_if<index_pattern>(&p);
        if (!ip) continue;  // invalid names match nothing in the requested role either
        if (!index_covers(h.groups, *ip, g.allow_restricted, g.privileges, g.raw)) return false;
      }
    }
  }
  return true;
}

}  // namespace esgate::policy
