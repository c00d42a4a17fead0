// Parsing of `-o key=value` create options shared by the formats: sizes with qemu-img's
// suffixes, on/off switches, and typed lookups in CreateOptions::options.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "block/format_registry.h"

namespace cella::block {

// "64k", "1M", "10G", "512", "1.5G": binary multiples (k/K, M, G, T, P, E; b/B for bytes).
Result<uint64_t> parse_size(std::string_view text);
// "on"/"off", "true"/"false", "yes"/"no", "1"/"0".
Result<bool> parse_switch(std::string_view text);

// The value of option `key`, if given.
std::optional<std::string> find_option(const CreateOptions& options, const std::string& key);
Result<std::optional<uint64_t>> size_option(const CreateOptions& options, const std::string& key);
Result<std::optional<bool>> switch_option(const CreateOptions& options, const std::string& key);

}  // namespace cella::block
