#pragma once
#include "esgate/config/settings.hpp"

namespace esgate::app {

// Runs the gateway until SIGTERM/SIGINT; returns the process exit code.
int run_server(const config::settings& settings);

}  // namespace esgate::app
