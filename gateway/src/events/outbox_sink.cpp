#include "events/outbox_sink.hpp"

#include <vector>

#include "store/outbox_payload.hpp"

namespace bbgw::events {

// Events are serialised here, in the publisher's thread, before the transaction: the store's
// committer is one thread for every publisher, so it only writes rows.
namespace {

bbgw::result<void> emit(bbgw::unit_of_work& uow, bbgw::cloud_event const& ev,
                        storage::outbox_payload const& p) {
  if (auto* pe = dynamic_cast<storage::prepared_emitter*>(&uow)) return pe->emit_prepared(ev, p);
  return uow.emit(ev);  // a store without the prepared path serialises itself
}

}  // namespace

bbgw::result<void> outbox_sink::publish(bbgw::cloud_event const& ev) {
  auto p = storage::make_outbox_payload(ev);
  auto r = store_.transact([&](bbgw::unit_of_work& uow) { return emit(uow, ev, p); });
  if (r && after_commit_) after_commit_();
  return r;
}

bbgw::result<void> outbox_sink::publish(std::span<bbgw::cloud_event const> events) {
  if (events.empty()) return {};
  std::vector<storage::outbox_payload> ps;
  ps.reserve(events.size());
  for (auto const& ev : events) ps.push_back(storage::make_outbox_payload(ev));
  auto r = store_.transact([&](bbgw::unit_of_work& uow) -> bbgw::result<void> {
    for (std::size_t i = 0; i < events.size(); ++i)
      if (auto e = emit(uow, events[i], ps[i]); !e) return e;
    return {};
  });
  if (r && after_commit_) after_commit_();
  return r;
}

}  // namespace bbgw::events
