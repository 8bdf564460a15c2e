// Private: the character rules for units, memos and names.
#pragma once

#include <string_view>

namespace keiretsu::protocol {

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// True when every byte is one of [A-Za-z0-9._-].
bool IsNameChars(std::string_view s);

}  // namespace keiretsu::protocol
