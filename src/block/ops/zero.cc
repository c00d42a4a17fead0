#include "block/ops/zero.h"

#include <algorithm>
#include <cstring>

namespace cella::block::ops {

bool is_zero(std::span<const uint8_t> data) {
  // The first byte is zero and every byte equals its successor: all are zero.
  return data.empty() ||
         (data[0] == 0 && std::memcmp(data.data(), data.data() + 1, data.size() - 1) == 0);
}

size_t first_nonzero(std::span<const uint8_t> data) {
  static constexpr size_t kBlock = 4096;
  size_t at = 0;
  while (at < data.size()) {
    const size_t n = std::min(kBlock, data.size() - at);
    if (!is_zero(data.subspan(at, n))) break;
    at += n;
  }
  while (at < data.size() && data[at] == 0) ++at;
  return at;
}

Result<void> read_zero_filled(BlockImage* image, uint64_t offset, std::span<uint8_t> out) {
  uint64_t inside = 0;
  if (image != nullptr && offset < image->size()) {
    inside = std::min<uint64_t>(out.size(), image->size() - offset);
    CELLA_TRY(image->read(offset, out.first(static_cast<size_t>(inside))));
  }
  std::fill(out.begin() + static_cast<ptrdiff_t>(inside), out.end(), 0);
  return ok();
}

}  // namespace cella::block::ops
