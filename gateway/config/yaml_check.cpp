#include "yaml_check.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace esgate::config::detail {

where where_of(const YAML::Mark& mark) {
  // yaml-cpp marks are 0-based (its own what() adds 1); ours are 1-based like compilers'.
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

where entry::value_at() const {
  if (!value.IsDefined() || value.IsNull()) return key_at;
  where w = where_of(value.Mark());
  return w.line == 0 ? key_at : w;
}

std::string quote(std::string_view text) {
  constexpr std::size_t max_shown = 64;
  std::string out = "[";
  std::size_t n = 0;
  for (char c : text) {
    if (n++ == max_shown) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  out += ']';
  return out;
}

std::string join_path(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (!out.empty()) out += '.';
  out += key;
  return out;
}

bool has_control_chars(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// "did you mean" for typos such as "adress" or "max_body_size"; only close matches.
std::string suggestion(std::string_view key, const std::vector<checker::field>& fields) {
  if (key.size() > 64) return {};
  std::string_view best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& f : fields) {
    std::size_t d = edit_distance(key, f.key);
    // Close enough to be a typo: two edits, or a third of a long name ("max_body_size").
    std::size_t allowed = std::max<std::size_t>(2, f.key.size() / 3);
    if (d <= allowed && d < f.key.size() && d < best_distance) {
      best = f.key;
      best_distance = d;
    }
  }
  if (best.empty()) return {};
  return " (did you mean [" + std::string(best) + "]?)";
}

std::string_view kind_of(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "a value";
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void checker::error_at(where at, std::string message) {
  out_.push_back(diagnostic{file_, at.line, at.column, std::move(message)});
}

namespace {
std::string prefix(const entry& e) {
  return (e.path.empty() ? std::string("top level") : e.path) + ": ";
}
}  // namespace

void checker::error(const entry& e, std::string_view problem) {
  error_at(e.value_at(), prefix(e) + std::string(problem));
}

void checker::error_key(const entry& e, std::string_view problem) {
  error_at(e.key_at, prefix(e) + std::string(problem));
}

void checker::file_error(std::string message) { error_at({}, std::move(message)); }

// Walks a mapping's keys once for both visitors: type check, plain-string keys, duplicates
// (yaml-cpp silently keeps both; a second value hiding the first is how mistakes slip by).
bool checker::visit_keys(const entry& e, std::string_view expected,
                         const std::function<void(const std::string& key, entry child)>& handle) {
  if (e.value.IsNull()) return true;
  if (!e.value.IsMap()) {
    error(e, "expected " + std::string(expected) + ", got " + std::string(kind_of(e.value)));
    return false;
  }
  std::vector<std::string> seen;
  for (auto it = e.value.begin(); it != e.value.end(); ++it) {
    // Copies, not references: yaml-cpp's operator-> returns a temporary proxy.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    where key_at = where_of(key.Mark());
    if (key_at.line == 0) key_at = e.value_at();
    if (!key.IsScalar()) {
      error_at(key_at, prefix(e) + "keys must be plain strings");
      continue;
    }
    const std::string& name = key.Scalar();
    std::string path = join_path(e.path, name);
    if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
      error_at(key_at, "duplicate key " + quote(path));
      continue;
    }
    seen.push_back(name);
    handle(name, entry{value, key_at, std::move(path)});
  }
  return true;
}

bool checker::visit_map(const entry& e, const std::vector<field>& fields) {
  return visit_keys(e, "a mapping of keys", [&](const std::string& name, entry child) {
    auto f = std::find_if(fields.begin(), fields.end(),
                          [&](const field& candidate) { return candidate.key == name; });
    if (f == fields.end())
      error_at(child.key_at, "unknown key " + quote(child.path) + suggestion(name, fields));
    else
      f->handle(std::move(child));
  });
}

bool checker::visit_dynamic_map(
    const entry& e, const std::function<void(const std::string& key, const entry&)>& handle) {
  return visit_keys(e, "a mapping",
                    [&](const std::string& name, entry child) { handle(name, child); });
}

std::optional<std::vector<entry>> checker::sequence(const entry& e) {
  std::vector<entry> items;
  if (e.value.IsNull()) return items;
  if (!e.value.IsSequence()) {
    error(e, "expected a list, got " + std::string(kind_of(e.value)));
    return std::nullopt;
  }
  std::size_t i = 0;
  for (const auto& item : e.value) {
    entry child{item, e.value_at(), e.path + "[" + std::to_string(i++) + "]"};
    where w = where_of(item.Mark());
    if (w.line != 0) child.key_at = w;
    items.push_back(std::move(child));
  }
  return items;
}

std::optional<std::string> checker::string(const entry& e, bool allow_empty, bool secret) {
  if (!e.value.IsScalar()) {
    error(e, "expected a string, got " + std::string(kind_of(e.value)));
    return std::nullopt;
  }
  const std::string& s = e.value.Scalar();
  if (s.empty() && !allow_empty) {
    error(e, "must not be empty");
    return std::nullopt;
  }
  if (secret && has_control_chars(s)) {
    error(e, "must not contain control characters");
    return std::nullopt;
  }
  return s;
}

std::optional<std::uint64_t> checker::integer(const entry& e, std::uint64_t min,
                                              std::uint64_t max) {
  std::string expected =
      "expected an integer between " + std::to_string(min) + " and " + std::to_string(max);
  if (!e.value.IsScalar()) {
    error(e, expected + ", got " + std::string(kind_of(e.value)));
    return std::nullopt;
  }
  const std::string& s = e.value.Scalar();
  // Digits only: no sign, no hex/octal/float spellings, no overflow into a wrapped value.
  if (!all_digits(s) || s.size() > 19) {
    error(e, expected + ", got " + quote(s));
    return std::nullopt;
  }
  std::uint64_t v = std::stoull(s);
  if (v < min || v > max) {
    error(e, expected + ", got " + quote(s));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> checker::boolean(const entry& e) {
  if (e.value.IsScalar()) {
    const std::string& s = e.value.Scalar();
    // YAML 1.2 core schema spellings only; yes/no/on/off are YAML 1.1 traps.
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    error(e, "expected true or false, got " + quote(s));
    return std::nullopt;
  }
  error(e, "expected true or false, got " + std::string(kind_of(e.value)));
  return std::nullopt;
}

std::optional<duration> checker::duration_value(const entry& e, duration min, duration max) {
  std::string expected = "expected a duration such as 500ms, 10s, 5m, 1h or 7d";
  if (!e.value.IsScalar()) {
    error(e, expected + ", got " + std::string(kind_of(e.value)));
    return std::nullopt;
  }
  const std::string& s = e.value.Scalar();
  auto d = parse_duration(s);
  if (!d) {
    error(e, expected + ", got " + quote(s));
    return std::nullopt;
  }
  if (*d < min || *d > max) {
    error(e, quote(s) + " is out of range: must be between " + format_duration(min) + " and " +
                 format_duration(max));
    return std::nullopt;
  }
  return d;
}

std::optional<std::uint64_t> checker::size_value(const entry& e, std::uint64_t min,
                                                 std::uint64_t max) {
  std::string expected = "expected a size such as 512kb, 100mb or 1gb";
  if (!e.value.IsScalar()) {
    error(e, expected + ", got " + std::string(kind_of(e.value)));
    return std::nullopt;
  }
  const std::string& s = e.value.Scalar();
  auto v = parse_size(s);
  if (!v) {
    error(e, expected + ", got " + quote(s));
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    std::string range = max == std::numeric_limits<std::uint64_t>::max()
                            ? "at least " + format_size(min)
                            : "between " + format_size(min) + " and " + format_size(max);
    error(e, quote(s) + " is out of range: must be " + range);
    return std::nullopt;
  }
  return v;
}

namespace {

// Counts parse events and remembers where the first one was, to see whether a second document
// follows the first without building it.
class event_probe : public YAML::EventHandler {
 public:
  bool seen = false;
  YAML::Mark first;

  void OnDocumentStart(const YAML::Mark& m) override { note(m); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    note(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& m) {
    if (!seen) first = m;
    seen = true;
  }
};

// YAML forbids C0 controls other than TAB/LF/CR, and DEL; yaml-cpp 0.7 can loop forever on some
// of them (found by fuzzing), so they are refused before it sees them.
std::optional<where> forbidden_character(const std::string& text) {
  int line = 1, column = 1;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) return where{line, column};
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<YAML::Node> parse_document(const std::string& text, checker& check) {
  if (auto at = forbidden_character(text)) {
    check.error_at(*at, "invalid YAML: control characters are not allowed");
    return std::nullopt;
  }
  try {
    // Not YAML::LoadAll: in yaml-cpp 0.7 it never returns on input such as ",". Load the first
    // document, then ask the parser whether anything follows it.
    YAML::Node root = YAML::Load(text);
    std::istringstream in(text);
    YAML::Parser parser(in);
    event_probe first, second;
    parser.HandleNextDocument(first);
    if (parser.HandleNextDocument(second)) {
      where at = second.seen ? where_of(second.first) : where{};
      check.error_at(at, "invalid YAML: expected a single document");
      return std::nullopt;
    }
    return root;
  } catch (const YAML::Exception& ex) {
    check.error_at(where_of(ex.mark), "invalid YAML: " + ex.msg);
  } catch (const std::exception& ex) {
    check.file_error(std::string("invalid YAML: ") + ex.what());
  }
  return std::nullopt;
}

read_status read_text_file(const std::string& path, std::size_t max_bytes, std::string& out,
                           std::string& problem) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    problem = "file not found";
    return read_status::missing;
  }
  if (ec) {
    problem = "cannot access file: " + ec.message();
    return read_status::failed;
  }
  if (status.type() != fs::file_type::regular) {
    problem = "not a regular file";
    return read_status::failed;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problem = std::string("cannot open file: ") + std::strerror(errno);
    return read_status::failed;
  }
  out.clear();
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    out.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      problem = "file is larger than " + format_size(max_bytes);
      return read_status::failed;
    }
  }
  if (in.bad()) {
    problem = "read error";
    return read_status::failed;
  }
  return read_status::ok;
}

void sort_diagnostics(std::vector<diagnostic>& errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const diagnostic& a, const diagnostic& b) {
    if (a.line != b.line) return a.line < b.line;
    return a.column < b.column;
  });
}

std::string format_size(std::uint64_t bytes) {
  static constexpr const char* units[] = {"b", "kb", "mb", "gb", "tb", "pb"};
  std::size_t i = 0;
  while (i + 1 < std::size(units) && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++i;
  }
  return std::to_string(bytes) + units[i];
}

std::string format_duration(duration d) {
  auto ms = d.count();
  if (ms != 0 && ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace esgate::config::detail
