#include "ops/ops_routes.hpp"

#include <memory>

namespace bbgw::ops {

std::vector<bbgw::route> ops_routes(readiness_monitor& ready, metrics_registry& registry,
                                    std::string openapi_yaml) {
  std::vector<bbgw::route> routes;
  // Liveness answers from the I/O thread with a constant body: it says the process serves.
  routes.push_back({{"GET", "HEAD"},
                    "/healthz",
                    [](bbgw::request const&) {
                      return bbgw::response::text(200, R"({"status":"ok"})", "application/json");
                    },
                    0,
                    bbgw::execution::io});
  routes.push_back({{"GET"},
                    "/readyz",
                    [&ready](bbgw::request const&) {
                      auto snap = ready.current();
                      return bbgw::response::text(snap.ready ? 200 : 503, std::move(snap.body),
                                                  "application/json");
                    },
                    0,
                    bbgw::execution::io});
  routes.push_back({{"GET"},
                    "/metrics",
                    [&registry](bbgw::request const&) {
                      return bbgw::response::text(200, registry.render(),
                                                  "text/plain; version=0.0.4; charset=utf-8");
                    },
                    0,
                    bbgw::execution::io});
  auto doc = std::make_shared<std::string const>(std::move(openapi_yaml));
  routes.push_back({{"GET"},
                    "/openapi.yaml",
                    [doc](bbgw::request const&) {
                      auto r = bbgw::response::text(200, *doc, "application/yaml");
                      r.headers.set("Cache-Control", "public, max-age=300");
                      return r;
                    },
                    0,
                    bbgw::execution::io});
  return routes;
}

}  // namespace bbgw::ops
