// The value parsers of `cella img` flags: sizes, size changes, -o option lists.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "cli/img_args.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto parsed = cella::cli::parse_size(text); parsed.ok() && *parsed > uint64_t{INT64_MAX}) {
    std::abort();  // sizes are bounded by INT64_MAX, as qemu-img's
  }
  if (auto change = cella::cli::parse_size_change(text); change.ok()) {
    for (uint64_t current : {uint64_t{0}, uint64_t{1} << 30, uint64_t{INT64_MAX}}) {
      if (auto next = cella::cli::apply_size_change(*change, current);
          next.ok() && *next > uint64_t{INT64_MAX} &&
          change->kind != cella::cli::SizeChange::Kind::kShrink) {
        std::abort();
      }
    }
  }
  bool help = false;
  if (auto values = cella::cli::parse_key_values({text}, &help); values.ok()) {
    for (const auto& [key, value] : *values) {
      if (key.empty()) std::abort();
    }
  }
  (void)cella::cli::check_cache_mode(text);
  return 0;
}
