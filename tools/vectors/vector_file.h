// The committed vectors files (tests/vectors/*.json) as the three vector
// tools write and check them: each tool derives the file's text through the
// real code, then either writes it (`--out FILE`, or stdout) or compares it
// with the committed file (`--check FILE`), reporting the lines that differ.
//
// Thread-safety: free functions, no shared state.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keiretsu::vectors {

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> ReadVectorFile(const std::string& path);

// Lines where `want` and `got` differ, as "line N, column C: want `...` got
// `...`" (at most `max` of them); empty when the texts are identical.
std::vector<std::string> DiffLines(std::string_view want, std::string_view got, size_t max = 20);

// One tool's output step, for `text` that the tool derived. With `check`
// set: 0 when the file holds exactly `text`; otherwise 1, with each
// differing line (or "cannot read") on stderr, prefixed by `tool`. Else
// writes `text` to `out` (stdout when empty): 0, or 1 when it cannot be
// written. Nothing is written in check mode.
int WriteOrCheck(std::string_view tool, const std::string& text, const std::string& out,
                 const std::string& check);

}  // namespace keiretsu::vectors
