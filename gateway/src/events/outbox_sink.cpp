#include "events/outbox_sink.hpp"

#include <memory>
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

void outbox_sink::publish_async(bbgw::cloud_event ev, completion done) {
  // The transaction runs later on the store's thread: it owns the event and its serialised form.
  struct pending {
    bbgw::cloud_event ev;
    storage::outbox_payload p;
  };
  auto owned = std::make_shared<pending>();
  owned->p = storage::make_outbox_payload(ev);
  owned->ev = std::move(ev);
  store_.transact_async([owned](bbgw::unit_of_work& uow) { return emit(uow, owned->ev, owned->p); },
                        // A copy of after_commit: the completion does not need this sink.
                        [after = after_commit_, done = std::move(done)](bbgw::result<void> r) {
                          if (r && after) after();
                          done(r);
                        });
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
