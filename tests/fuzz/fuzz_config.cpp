// esgate-fuzz-deps: esgate::config
// Feeds arbitrary bytes to the esgate.yaml and users.yml loaders and to the unit parsers: they
// must never crash, hang or throw, whatever the operator (or an attacker with write access to a
// reloaded file) puts there.
#include <cstddef>
#include <cstdint>
#include <string>

#include "esgate/config/settings.hpp"
#include "esgate/config/users.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // A folder that does not exist keeps relative TLS paths from touching real files.
  auto settings = esgate::config::parse_settings(text, "fuzz.yaml", "/nonexistent/esgate-fuzz");
  for (const auto& e : settings.errors) {
    if (e.to_string().empty()) __builtin_trap();
    if (e.line < 0 || e.column < 0) __builtin_trap();
  }
  if (settings.ok() && settings.value.upstream.nodes.empty()) __builtin_trap();
  auto users = esgate::config::parse_users(text, "fuzz-users.yml");
  for (const auto& [name, u] : users.value.users)
    if (name != u.username || u.password_hash.size() != 60) __builtin_trap();
  if (size <= 64) {
    (void)esgate::config::parse_duration(text);
    (void)esgate::config::parse_size(text);
  }
  return 0;
}
