#pragma once

namespace esgate::app {

// The esgate command line: run (default), check-config, hash-password, keys (cli/keys.hpp),
// explain (app/explain.hpp), --version.
int main(int argc, char** argv);

}  // namespace esgate::app
