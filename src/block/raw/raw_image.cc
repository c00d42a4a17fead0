#include "block/raw/raw_image.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "block/format_registry.h"

namespace cella::block {

Result<void> RawImage::read(uint64_t offset, std::span<uint8_t> out) {
  CELLA_TRY(check_range("read", offset, out.size()));
  return file_.read(offset, out);
}

Result<void> RawImage::write(uint64_t offset, std::span<const uint8_t> data) {
  CELLA_TRY(check_range("write", offset, data.size()));
  if (guard_probe_ && offset < kProbeBytes) CELLA_TRY(check_probe_guard(offset, data));
  return file_.write(offset, data);
}

// The first kProbeBytes of a probed raw image must keep probing as raw: otherwise whoever
// writes the disk (a guest) could make the next open read it as, say, qcow2 with a backing
// file naming any host file.
Result<void> RawImage::check_probe_guard(uint64_t offset, std::span<const uint8_t> data) const {
  std::vector<uint8_t> head(static_cast<size_t>(std::min<uint64_t>(size_, kProbeBytes)));
  CELLA_TRY(file_.read(0, head));
  const size_t n = static_cast<size_t>(std::min<uint64_t>(data.size(), head.size() - offset));
  std::memcpy(head.data() + offset, data.data(), n);
  const FormatDriver* probed = probe_format(head, size_);
  if (probed != nullptr && std::string_view(probed->name) != "raw") {
    return make_error(
        "{}: refusing a write at offset {} that would make this raw image look like a {} "
        "image; open it with an explicit format (-f raw) to allow it",
        path(), offset, probed->name);
  }
  return ok();
}

Result<void> RawImage::flush() {
  return file_.flush();
}

Result<void> RawImage::discard(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_range("discard", offset, length));
  if (length == 0) return ok();
  return file_.punch_hole(offset, length);
}

Result<void> RawImage::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap) {
  CELLA_TRY(check_range("write-zeroes", offset, length));
  if (length == 0) return ok();
  return may_unmap ? file_.punch_hole(offset, length) : file_.zero_range(offset, length);
}

Result<void> RawImage::resize(uint64_t new_size) {
  CELLA_TRY(file_.truncate(new_size));  // growing leaves a hole: the new space reads as zeros
  size_ = new_size;
  return ok();
}

// Holes in the host file (SEEK_HOLE) read as zeros; everything else is data at the same offset.
Result<std::vector<Extent>> RawImage::map(uint64_t offset, uint64_t length) {
  CELLA_TRY(check_range("map", offset, length));
  std::vector<Extent> extents;
  const uint64_t end = offset + length;
  uint64_t at = offset;
  while (at < end) {
    CELLA_TRY_ASSIGN(data, file_.next_data(at));
    uint64_t next = 0;
    ExtentKind kind = ExtentKind::kData;
    if (data > at) {
      kind = ExtentKind::kZero;
      next = std::min(data, end);
    } else {
      CELLA_TRY_ASSIGN(hole, file_.next_hole(at));
      next = std::min(std::max(hole, at + 1), end);
    }
    extents.push_back(Extent{.offset = at,
                             .length = next - at,
                             .kind = kind,
                             .depth = 0,
                             .host_offset = static_cast<int64_t>(at),
                             .host_file = file_.path()});
    at = next;
  }
  return extents;
}

Result<CheckReport> RawImage::check(bool /*repair*/) {
  CheckReport report;  // raw has no metadata that could disagree with itself
  CELLA_TRY_ASSIGN(file_size, file_.size());
  report.image_end_offset = file_size;
  return report;
}

}  // namespace cella::block
