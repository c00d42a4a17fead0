// Every format's probe, through the registry, on arbitrary first bytes and file sizes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "block/format_registry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint64_t file_size = size;
  if (size >= 8) {  // the first 8 bytes choose a file size, the rest is the head
    std::memcpy(&file_size, data, 8);
    data += 8;
    size -= 8;
  }
  const std::span<const uint8_t> head(data, size);
  for (const cella::block::FormatDriver& driver : cella::block::format_drivers()) {
    const int score = driver.probe(head, file_size);
    if (score < 0 || score > 100) std::abort();
  }
  if (cella::block::probe_format(head, file_size) == nullptr) std::abort();  // raw takes all
  return 0;
}
