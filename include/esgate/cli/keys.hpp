#pragma once
// `esgate keys create|list|get|invalidate|update`: the operator CLI for API keys, talking to a
// running gateway's own /_security/api_key endpoints (README "Operator CLI").
//
// Connection and credentials (flag, else environment):
//   --url / ESGATE_URL              default http://127.0.0.1:9243
//   --user / ESGATE_USER            HTTP Basic user; the password from --password, ESGATE_PASSWORD,
//   --password / ESGATE_PASSWORD    --password-stdin (one line), or a prompt on a terminal
//   --api-key / ESGATE_API_KEY      an encoded API key instead (Authorization: ApiKey)
//   --cacert FILE, --insecure       https verification
// Exit codes: 0 success, 1 an error answer from the gateway (printed `error: <type>: <reason>`)
// or a connection failure, 2 a usage error.
#include <memory>

namespace CLI {
class App;
}

namespace esgate::cli {

class keys_command {
 public:
  explicit keys_command(CLI::App& parent);  // adds `keys` and its subcommands
  ~keys_command();
  keys_command(const keys_command&) = delete;
  keys_command& operator=(const keys_command&) = delete;

  bool selected() const;  // `keys` was on the command line
  int run();              // after parsing

  struct state;

 private:
  std::unique_ptr<state> s_;
};

}  // namespace esgate::cli
