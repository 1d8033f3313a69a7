#pragma once
// UTF-8 validity (RFC 3629), for text from untrusted input that is put into JSON or XML as it is.
#include <string_view>

namespace bbgw {

// False for anything RFC 3629 does not allow: stray continuation bytes, truncated sequences,
// overlong forms, surrogates, code points above U+10FFFF.
bool valid_utf8(std::string_view s) noexcept;

}  // namespace bbgw
