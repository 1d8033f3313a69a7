#pragma once
// A test-only connector: POST /test/events stores a record and emits events in one transaction,
// so integration tests can drive the whole pipeline. Never built into the bbgw binary.
#include "connector_table.hpp"

namespace bbgw::testbed {

bbgw::app::connector_entry test_connector_entry();

}  // namespace bbgw::testbed
