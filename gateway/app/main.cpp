// bbgw: the BB Gateway executable.
#include "cli.hpp"
#include "connector_table.hpp"

int main(int argc, char** argv) {
  return bbgw::app::run_cli(argc, argv, bbgw::app::builtin_connectors());
}
