#pragma once
// What the outbox stores for an event besides its attributes: the structured-mode CloudEvent
// JSON (the Kafka value) and the RFC 3339 time. Computing them is most of the cost of an emit,
// so callers that can do it before the transaction (the outbox sink, in the publisher's thread)
// hand them over ready, off the single committer thread.
#include <string>

#include "bbgw/cloud_event.hpp"
#include "bbgw/result.hpp"

namespace bbgw::storage {

struct outbox_payload {
  std::string json;  // the same bytes as bbgw::to_structured_json(ev)
  std::string time;  // bbgw::format_rfc3339(ev.time)
};

outbox_payload make_outbox_payload(bbgw::cloud_event const& ev);

// Implemented by a store's unit_of_work when it can take an event already serialised:
// emit_prepared(ev, make_outbox_payload(ev)) does what unit_of_work::emit(ev) does.
class prepared_emitter {
 public:
  virtual bbgw::result<void> emit_prepared(bbgw::cloud_event const& ev,
                                           outbox_payload const& payload) = 0;

 protected:
  ~prepared_emitter() = default;
};

}  // namespace bbgw::storage
