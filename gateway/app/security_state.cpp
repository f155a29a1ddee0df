#include "security_state.hpp"

namespace esgate::app {

security_load_result load_security_state(const config::settings& s, std::uint64_t generation) {
  security_load_result out;
  auto users = config::load_users(s.security.users_file);
  out.errors.insert(out.errors.end(), users.errors.begin(), users.errors.end());
  if (!out.errors.empty()) return out;
  auto st = std::make_shared<security_state>();
  st->users = std::move(users.value);
  st->generation = generation;
  out.state = std::move(st);
  return out;
}

}  // namespace esgate::app
