#pragma once
// Private helpers shared by the esgate.yaml and users.yml loaders: a strict walker over a
// yaml-cpp tree that collects every problem as a diagnostic (1-based line:col) instead of
// stopping at the first, because an operator fixing a config wants the whole list at once.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "esgate/config/settings.hpp"

namespace esgate::config::detail {

// 1-based position; 0:0 = unknown.
struct where {
  int line = 0;
  int column = 0;
};

where where_of(const YAML::Mark& mark);

// A value together with its dotted path ("listen.tls.key") and where to blame it. yaml-cpp puts an
// empty value's mark on the *next* token (often the next line), so empty values are blamed on
// their key instead.
struct entry {
  YAML::Node value;
  where key_at;
  std::string path;

  where value_at() const;
};

// "[text]" for messages: control characters replaced (a config file must not be able to drive
// the operator's terminal), long values cut. Never pass secrets here.
std::string quote(std::string_view text);

std::string join_path(std::string_view parent, std::string_view key);

class checker {
 public:
  checker(std::string file, std::vector<diagnostic>& out) : file_(std::move(file)), out_(out) {}

  void error_at(where at, std::string message);
  // "<path>: <problem>" blamed on the value (or its key when the value is empty).
  void error(const entry& e, std::string_view problem);
  // "<path>: <problem>" blamed on the key, for problems of the section as a whole.
  void error_key(const entry& e, std::string_view problem);
  void file_error(std::string message);

  struct field {
    std::string_view key;
    std::function<void(const entry&)> handle;
  };
  // Walks a mapping with a fixed set of keys. Unknown, duplicate and non-scalar keys are errors
  // at the key. A null value counts as an empty mapping. False when the value is not a mapping.
  bool visit_keys(const entry& e, std::string_view expected,
                  const std::function<void(const std::string& key, entry child)>& handle);
  bool visit_map(const entry& e, const std::vector<field>& fields);
  // Walks a mapping whose keys are data (user names, role names): duplicates are errors.
  bool visit_dynamic_map(const entry& e,
                         const std::function<void(const std::string& key, const entry&)>& handle);
  // A list: null counts as empty. nullopt (after an error) when it is not a list.
  std::optional<std::vector<entry>> sequence(const entry& e);

  // Scalars. Each reports its own error and returns nullopt on failure. `secret` values are
  // never echoed in messages.
  std::optional<std::string> string(const entry& e, bool allow_empty = false, bool secret = false);
  std::optional<std::uint64_t> integer(const entry& e, std::uint64_t min, std::uint64_t max);
  std::optional<bool> boolean(const entry& e);
  std::optional<duration> duration_value(const entry& e, duration min, duration max);
  std::optional<std::uint64_t> size_value(const entry& e, std::uint64_t min, std::uint64_t max);

  std::size_t error_count() const { return out_.size(); }

 private:
  std::string file_;
  std::vector<diagnostic>& out_;
};

// Parses YAML text holding at most one document. Syntax errors become one diagnostic at
// yaml-cpp's mark. An empty document is a null node.
std::optional<YAML::Node> parse_document(const std::string& text, checker& check);

enum class read_status { ok, missing, failed };
// Reads a whole (small) file. On failure `problem` says why, without the file name.
read_status read_text_file(const std::string& path, std::size_t max_bytes, std::string& out,
                           std::string& problem);

// Sorts diagnostics by position (file-level first), keeping document order for ties.
void sort_diagnostics(std::vector<diagnostic>& errors);

std::string format_size(std::uint64_t bytes);
std::string format_duration(duration d);

bool has_control_chars(std::string_view text);

}  // namespace esgate::config::detail
