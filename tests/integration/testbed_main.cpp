// bbgw-testbed: bbgw with the test-only connector added to the table.
#include "cli.hpp"
#include "connector_table.hpp"
#include "test_connector.hpp"

int main(int argc, char** argv) {
  auto table = bbgw::app::builtin_connectors();
  table.push_back(bbgw::testbed::test_connector_entry());
  return bbgw::app::run_cli(argc, argv, std::move(table));
}
