#pragma once
// Which configured PMode a received UserMessage belongs to: agreement, service (+ type),
// action, From/To party ids (+ type) and roles must all match. No match → EBMS:0010 with the
// reason from the closest PMode.
#include <span>
#include <string>

#include "bbgw/result.hpp"
#include "edelivery/config.hpp"
#include "edelivery/ebms.hpp"

namespace bbgw::edelivery {

result<pmode const*> match_pmode(user_message const& um, std::span<pmode const> pmodes,
                                 std::string* detail = nullptr);

}  // namespace bbgw::edelivery
