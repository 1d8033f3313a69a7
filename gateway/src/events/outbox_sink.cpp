#include "events/outbox_sink.hpp"

namespace bbgw::events {

bbgw::result<void> outbox_sink::publish(bbgw::cloud_event const& ev) {
  auto r = store_.transact([&ev](bbgw::unit_of_work& uow) { return uow.emit(ev); });
  if (r && after_commit_) after_commit_();
  return r;
}

bbgw::result<void> outbox_sink::publish(std::span<bbgw::cloud_event const> events) {
  if (events.empty()) return {};
  auto r = store_.transact([events](bbgw::unit_of_work& uow) -> bbgw::result<void> {
    for (auto const& ev : events)
      if (auto e = uow.emit(ev); !e) return e;
    return {};
  });
  if (r && after_commit_) after_commit_();
  return r;
}

}  // namespace bbgw::events
