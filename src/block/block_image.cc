#include "block/block_image.h"

#include <algorithm>
#include <vector>

namespace cella::block {

Result<void> BlockImage::check_range(std::string_view what, uint64_t offset,
                                     uint64_t length) const {
  if (offset > size() || length > size() - offset) {
    return make_error("{}: {} of {} bytes at offset {} is beyond the end of the disk ({} bytes)",
                      path(), what, length, offset, size());
  }
  return ok();
}

Result<void> BlockImage::discard(uint64_t offset, uint64_t length) {
  return check_range("discard", offset, length);
}

Result<void> BlockImage::write_zeroes(uint64_t offset, uint64_t length, bool /*may_unmap*/) {
  CELLA_TRY(check_range("write-zeroes", offset, length));
  static constexpr size_t kChunk = 1 << 20;
  std::vector<uint8_t> zeros(std::min<uint64_t>(length, kChunk), 0);
  while (length > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(length, kChunk));
    CELLA_TRY(write(offset, std::span<const uint8_t>(zeros.data(), n)));
    offset += n;
    length -= n;
  }
  return ok();
}

Result<void> BlockImage::resize(uint64_t /*new_size*/) {
  return make_error("{} images cannot be resized", format_name());
}

Result<void> BlockImage::write_compressed(uint64_t /*offset*/,
                                          std::span<const uint8_t> /*cluster*/) {
  return make_error("{} images do not support compressed writes", format_name());
}

Result<void> BlockImage::set_backing(const std::string& /*path*/, const std::string& /*format*/) {
  return make_error("{} images cannot have a backing file", format_name());
}

Result<void> BlockImage::make_empty() {
  return make_error("{} images cannot be emptied into a backing file", format_name());
}

Result<CheckReport> BlockImage::check(bool /*repair*/) {
  return CheckReport{};
}

}  // namespace cella::block
