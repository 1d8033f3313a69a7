#pragma once
// The operational endpoints: /healthz, /readyz, /metrics, /openapi.yaml.
#include <string>
#include <vector>

#include "bbgw/connector.hpp"
#include "ops/metrics_registry.hpp"
#include "ops/readiness.hpp"

namespace bbgw::ops {

// The references must outlive the routes. `openapi_yaml` is the OpenAPI document served as is.
std::vector<bbgw::route> ops_routes(readiness_monitor& ready, metrics_registry& registry,
                                    std::string openapi_yaml);

}  // namespace bbgw::ops
