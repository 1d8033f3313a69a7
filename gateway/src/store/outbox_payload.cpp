#include "store/outbox_payload.hpp"

namespace bbgw::storage {

outbox_payload make_outbox_payload(bbgw::cloud_event const& ev) {
  return {bbgw::to_structured_json(ev), bbgw::format_rfc3339(ev.time)};
}

}  // namespace bbgw::storage
