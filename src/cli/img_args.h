// Parsing of the values `cella img` flags take, with qemu-img's conventions: sizes with
// binary suffixes, `-o key=value[,key=value]` lists, cache modes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace cella::cli {

// A byte count: digits with an optional fraction and an optional suffix b/B (bytes), k/K, M,
// G, T, P, E (powers of 1024), or a 0x hexadecimal integer. "1.5G" is 1610612736. At most
// INT64_MAX, and a whole number of bytes.
Result<uint64_t> parse_size(std::string_view text);

// The size operand of `resize`: absolute ("10G"), or relative ("+1G", "-512M").
struct SizeChange {
  enum class Kind { kAbsolute, kGrow, kShrink } kind = Kind::kAbsolute;
  uint64_t amount = 0;
};
Result<SizeChange> parse_size_change(std::string_view text);
// The size a change leads to from current, or an error if it would be negative or too large.
Result<uint64_t> apply_size_change(const SizeChange& change, uint64_t current);

// `-o` lists, each "key=value[,key=value...]" where ",," is a literal comma and a bare "key"
// means "key=on". Later keys override earlier ones. "help" or "?" sets *help.
Result<std::map<std::string, std::string>> parse_key_values(const std::vector<std::string>& lists,
                                                            bool* help);

// `-t` / `-T` cache modes qemu-img accepts; Cella validates them and always copies through
// the host page cache, flushing at the end (see docs/cli.md).
Result<void> check_cache_mode(std::string_view mode);

}  // namespace cella::cli
