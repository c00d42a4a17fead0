// Values of `-o key=value` create options, parsed the way qemu-img users write them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "block/format_registry.h"

namespace cella::block {

// "4096", "512k", "2M", "1G", "1T" (binary multiples, case-insensitive, optional "iB"/"B").
Result<uint64_t> parse_size_value(std::string_view key, std::string_view value);
// "on"/"off", "true"/"false", "yes"/"no", "1"/"0".
Result<bool> parse_bool_value(std::string_view key, std::string_view value);

// The option `key` of `options`, or `fallback` when absent.
Result<uint64_t> size_option(const CreateOptions& options, const std::string& key,
                             uint64_t fallback);
Result<bool> bool_option(const CreateOptions& options, const std::string& key, bool fallback);
std::string string_option(const CreateOptions& options, const std::string& key,
                          const std::string& fallback);

}  // namespace cella::block
