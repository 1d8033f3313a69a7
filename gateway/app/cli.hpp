#pragma once
// Command line: `bbgw serve [--config FILE]`, `bbgw check-config FILE`, `bbgw version`.
#include <vector>

#include "connector_table.hpp"

namespace bbgw::app {

// Exit codes: 0 success, 1 runtime failure, 2 configuration or usage error.
int run_cli(int argc, char** argv, std::vector<connector_entry> table);

}  // namespace bbgw::app
