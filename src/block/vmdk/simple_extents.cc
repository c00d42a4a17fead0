#include "block/vmdk/simple_extents.h"

#include <algorithm>
#include <cstring>

namespace cella::block::vmdk {

Result<std::unique_ptr<FlatExtent>> FlatExtent::open(HostFile file, uint64_t offset,
                                                     uint64_t size) {
  CELLA_TRY_ASSIGN(file_size, file.size());
  // "Simple Extents": the data is [offset, offset + size) of the file. An extent reaching past
  // the end of its file is a damaged or hostile descriptor.
  if (offset > file_size || size > file_size - offset) {
    return make_error("{}: the flat extent covers bytes [{}, {}) but the file has {} bytes",
                      file.path(), offset, offset + size, file_size);
  }
  return std::unique_ptr<FlatExtent>(new FlatExtent(std::move(file), offset, size));
}

Result<Segment> FlatExtent::lookup(uint64_t offset, uint64_t max_length) {
  // For I/O the whole range is data: holes read as zeros anyway.
  return Segment{ExtentKind::kData, max_length, static_cast<int64_t>(offset_ + offset), 0};
}

Result<Segment> FlatExtent::allocation(uint64_t offset, uint64_t max_length) {
  // Holes in the host file read as zeros: report them as such, as `qemu-img map` does.
  const uint64_t at = offset_ + offset;
  const uint64_t end = at + max_length;
  CELLA_TRY_ASSIGN(data, file_.next_data(at));
  if (data > at) {
    return Segment{ExtentKind::kZero, std::min(data, end) - at, -1, 0};
  }
  CELLA_TRY_ASSIGN(hole, file_.next_hole(at));
  return Segment{ExtentKind::kData, std::min(std::max(hole, at + 1), end) - at,
                 static_cast<int64_t>(at), 0};
}

Result<void> FlatExtent::read(const Segment&, uint64_t offset, std::span<uint8_t> out) {
  return file_.read_zero_filled(offset_ + offset, out);
}

Result<void> FlatExtent::write(uint64_t offset, std::span<const uint8_t> data, const Background&) {
  return file_.write(offset_ + offset, data);
}

Result<void> FlatExtent::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap,
                                      bool has_backing, const Background& background) {
  // A hole reads as zeros; without may_unmap the space stays allocated.
  if (may_unmap) return file_.punch_hole(offset_ + offset, length);
  return DiskExtent::write_zeroes(offset, length, may_unmap, has_backing, background);
}

Result<void> FlatExtent::discard(uint64_t offset, uint64_t length) {
  return file_.punch_hole(offset_ + offset, length);
}

Result<Segment> ZeroExtent::lookup(uint64_t, uint64_t max_length) {
  return Segment{ExtentKind::kZero, max_length, -1, 0};
}

Result<void> ZeroExtent::read(const Segment&, uint64_t, std::span<uint8_t> out) {
  std::memset(out.data(), 0, out.size());
  return ok();
}

Result<void> ZeroExtent::write(uint64_t offset, std::span<const uint8_t>, const Background&) {
  return make_error("the disk range at extent offset {} is a ZERO extent, which cannot be written",
                    offset);
}

}  // namespace cella::block::vmdk
