#include "esgate/app/main.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <iterator>

#include "esgate/auth/password.hpp"
#include "esgate/cli/keys.hpp"
#include "esgate/config/settings.hpp"
#include "esgate/observability/log.hpp"
#include "explain.hpp"
#include "first_start.hpp"
#include "security_state.hpp"
#include "server.hpp"

#ifndef ESGATE_VERSION
#define ESGATE_VERSION "0.1.0"
#endif

namespace esgate::app {

namespace {

// Prints every problem as FILE:LINE:COL: message (interface.md §1) and returns the exit code.
// The roles and users files are checked even when esgate.yaml has problems (issue 10): the
// settings loader still names them unless their own keys are broken, and an operator fixing a
// deployment wants the whole list from one run, not one file per run.
int check_config(const std::string& path) {
  auto loaded = config::load_settings(path);
  std::vector<config::diagnostic> problems = loaded.errors;
  if (loaded.ok()) {
    auto sec = load_security_state(loaded.value, 0);
    problems.insert(problems.end(), sec.errors.begin(), sec.errors.end());
    if (problems.empty()) {
      std::cout << path << ": OK (" << loaded.value.upstream.nodes.size() << " upstream node(s), "
                << sec.state->users.users.size() << " user(s), " << sec.state->roles.size()
                << " role(s))\n";
      return 0;
    }
  } else {
    auto more = policy_file_errors(loaded.value);
    problems.insert(problems.end(), more.begin(), more.end());
  }
  for (auto& d : problems) std::cout << d.to_string() << "\n";
  const auto& sec = loaded.value.security;
  if (sec.users_file.empty())
    std::cerr << "check-config: the users file was not checked: " << path
              << " does not say which file it is\n";
  if (sec.roles_file.empty())
    std::cerr << "check-config: the roles file was not checked: " << path
              << " does not say which file it is\n";
  return 1;
}

int hash_password() {
  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (!input.empty() && input.back() == '\n') input.pop_back();
  if (!input.empty() && input.back() == '\r') input.pop_back();
  if (input.empty()) {
    std::cerr << "hash-password: read an empty password from stdin\n";
    return 1;
  }
  try {
    std::cout << auth::hash_password(input) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "hash-password: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int run(const std::string& path) {
  observability::init_logging();
  auto loaded = config::load_settings(path);
  if (!loaded.ok()) {
    for (auto& d : loaded.errors) spdlog::error("{}", d.to_string());
    return 1;
  }
  if (!bootstrap_users_file(loaded.value)) return 1;
  return run_server(loaded.value);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esgate: API-key authentication gateway for Elasticsearch"};
  app.set_version_flag("--version", std::string("esgate ") + ESGATE_VERSION);
  std::string config_path = "config/esgate.yaml";
  app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
  auto* check =
      app.add_subcommand("check-config", "validate the configuration, roles and users files");
  check->add_option("-c,--config", config_path, "configuration file");
  auto* hash =
      app.add_subcommand("hash-password", "read a password on stdin, print its bcrypt hash");
  cli::keys_command keys(app);
  explain_command explain(app);
  app.require_subcommand(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    // The operator tools document exit 2 for usage errors (1 means "denied" / "error answer").
    return rc != 0 && (keys.selected() || explain.selected()) ? 2 : rc;
  }
  if (*check) return check_config(config_path);
  if (*hash) return hash_password();
  if (keys.selected()) return keys.run();
  if (explain.selected()) return explain.run();
  return run(config_path);
}

}  // namespace esgate::app
