#include "events/outbox_sink.hpp"

namespace bbgw::events {

bbgw::result<void> outbox_sink::publish(bbgw::cloud_event const& ev) {
  auto r = store_.transact([&ev](bbgw::unit_of_work& uow) { return uow.emit(ev); });
  if (r && after_commit_) after_commit_();
  return r;
}

}  // namespace bbgw::events
