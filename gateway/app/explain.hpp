#pragma once
// `esgate explain --config F (--api-key ID | --user NAME) METHOD PATH [--body FILE]`: the
// operators' dry run (issue 11). Loads the config, roles.yml and users.yml (and, for --api-key,
// the key's record from the configured Redis key store, read-only) and runs the gateway's own
// authorization (es::authorize, the body stage) with a trace, without sending anything upstream.
// Prints the decision, every check made, and the role and privilege that decided each one.
//
// Wildcards, `_all` and missing index names are narrowed against the cluster's names at request
// time; explain has no cluster: it narrows against `--resolve FILE` (a saved
// `GET /_resolve/index/*?expand_wildcards=all` answer) or, without it, against no names.
//
// Exit codes: 0 granted (every item of a body too), 1 denied or rejected (any status but 2xx, or
// some item denied), 2 usage or configuration error, 3 not evaluated (the security API and
// /_esgate/ endpoints authorize each call themselves).
#include <memory>

namespace CLI {
class App;
}

namespace esgate::app {

class explain_command {
 public:
  explicit explain_command(CLI::App& parent);
  ~explain_command();
  explain_command(const explain_command&) = delete;
  explain_command& operator=(const explain_command&) = delete;

  bool selected() const;
  int run();

  struct state;

 private:
  std::unique_ptr<state> s_;
};

}  // namespace esgate::app
