#include "test_connector.hpp"

#include <boost/json.hpp>
#include <thread>

namespace bbgw::testbed {

namespace {

class test_connector final : public bbgw::connector {
 public:
  explicit test_connector(connector_context& ctx) : ctx_(ctx) {}
  std::string_view name() const override { return "test"; }
  void stop() override {}

  std::vector<route> routes() override {
    return {{{"POST"}, "/test/events", [this](request const& r) { return emit(r); }, 0,
             execution::worker},
            {{"GET"}, "/test/sleep/{ms}", [](request const& r) {
               auto ms = std::stoi(std::string(r.param("ms").value_or("0")));
               std::this_thread::sleep_for(std::chrono::milliseconds(ms));
               return response::text(200, "slept");
             }, 0, execution::worker}};
  }

 private:
  // Body: {"count": n, "key": "k", "note": "..."}; answers 201 {"ids": [...]} once durable.
  response emit(request const& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    if (ec || !v.is_object()) return response::problem(400, "body must be a JSON object");
    auto const& o = v.as_object();
    auto const* count = o.if_contains("count");
    auto const* key = o.if_contains("key");
    if (!count || !count->is_int64() || count->as_int64() < 1 || count->as_int64() > 100000 ||
        !key || !key->is_string())
      return response::problem(400, "count (1..100000) and key (string) are required");
    std::string note = o.contains("note") && o.at("note").is_string()
                           ? std::string(o.at("note").as_string())
                           : std::string{};
    std::string k(key->as_string());
    boost::json::array ids;
    auto done = ctx_.db.transact([&](unit_of_work& uow) -> result<void> {
      auto seq_text = uow.get("test.seq", k);
      if (!seq_text) return seq_text.error();
      std::int64_t seq = seq_text->has_value() ? std::stoll(**seq_text) : 0;
      for (std::int64_t i = 0; i < count->as_int64(); ++i, ++seq) {
        cloud_event ev;
        ev.id = new_event_id();
        ev.source = "/bbgw/test";
        ev.type = "eu.bbgateway.test.emitted.v1";
        ev.subject = k;
        ev.time = ctx_.time.now();
        ev.dataschema = "https://bbgateway.eu/schemas/events/gateway.test.emitted.json";
        ev.partitionkey = k;
        ev.requestid = r.request_id;
        ev.family = "test";
        ev.data = boost::json::object{{"seq", seq}, {"note", note}};
        if (auto e = uow.emit(ev); !e) return e.error();
        ids.push_back(boost::json::string(ev.id));
      }
      return uow.put("test.seq", k, std::to_string(seq));
    });
    if (!done) return response::problem(503, "store: " + done.error().message());
    return response::json(201, boost::json::object{{"ids", std::move(ids)}});
  }

  connector_context& ctx_;
};

}  // namespace

bbgw::app::connector_entry test_connector_entry() {
  return {"test", {"test"}, [](config_reader& r) -> std::optional<bbgw::app::connector_builder> {
            if (!r.boolean("enabled", false)) return std::nullopt;
            return [](connector_context& ctx) { return std::make_unique<test_connector>(ctx); };
          }};
}

}  // namespace bbgw::testbed
