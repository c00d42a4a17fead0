#include "block/ops/chain_map.h"

#include <algorithm>

namespace cella::block::ops {

namespace {

bool continues(const Extent& last, const Extent& next) {
  if (last.kind != next.kind || last.depth != next.depth || last.host_file != next.host_file ||
      last.offset + last.length != next.offset) {
    return false;
  }
  if (last.host_offset < 0 || next.host_offset < 0) {
    return last.host_offset < 0 && next.host_offset < 0;
  }
  return static_cast<uint64_t>(last.host_offset) + last.length ==
         static_cast<uint64_t>(next.host_offset);
}

// Every operation walks maps assuming they tile the range they were asked about; a format
// that breaks that contract gets an error here rather than a wrong copy.
Result<void> check_tiling(const BlockImage& image, const std::vector<Extent>& extents,
                          uint64_t offset, uint64_t length) {
  uint64_t at = offset;
  for (const Extent& extent : extents) {
    if (extent.offset != at || extent.length == 0 || extent.length > offset + length - at) {
      return make_error("{}: the {} map does not tile [{}, {}) (extent at {} of {} bytes)",
                        image.path(), image.format_name(), offset, offset + length, extent.offset,
                        extent.length);
    }
    at += extent.length;
  }
  if (at != offset + length) {
    return make_error("{}: the {} map stops at {} instead of {}", image.path(), image.format_name(),
                      at, offset + length);
  }
  return ok();
}

}  // namespace

Result<std::vector<Extent>> map_image(BlockImage& image, uint64_t offset, uint64_t length) {
  CELLA_TRY_ASSIGN(extents, image.map(offset, length));
  CELLA_TRY(check_tiling(image, extents, offset, length));
  return extents;
}

namespace {

Result<void> map_level(BlockImage& image, uint64_t offset, uint64_t length, int depth,
                       std::vector<Extent>& out) {
  CELLA_TRY_ASSIGN(extents, map_image(image, offset, length));
  for (Extent& extent : extents) {
    // A format that resolves its chain itself reports what reached the backing image at
    // depth >= 1 (kUnallocated there: allocated nowhere); only its own level needs resolving.
    const bool resolved = extent.depth > 0;
    extent.depth += depth;
    BlockImage* backing = image.backing();
    if (extent.kind != ExtentKind::kUnallocated || backing == nullptr || resolved) {
      append_extent(out, std::move(extent));
      continue;
    }
    const uint64_t end = extent.offset + extent.length;
    const uint64_t inside = std::clamp(backing->size(), extent.offset, end);
    if (inside > extent.offset) {
      CELLA_TRY(map_level(*backing, extent.offset, inside - extent.offset, extent.depth + 1, out));
    }
    if (end > inside) {  // past the end of a shorter backing image: reads as zeros
      append_extent(out, Extent{.offset = inside,
                                .length = end - inside,
                                .kind = ExtentKind::kUnallocated,
                                .depth = extent.depth + 1,
                                .host_offset = -1,
                                .host_file = {}});
    }
  }
  return ok();
}

}  // namespace

void append_extent(std::vector<Extent>& extents, Extent extent) {
  if (extent.length == 0) return;
  if (!extents.empty() && continues(extents.back(), extent)) {
    extents.back().length += extent.length;
    return;
  }
  extents.push_back(std::move(extent));
}

Result<std::vector<Extent>> map_chain(BlockImage& image, uint64_t offset, uint64_t length) {
  std::vector<Extent> out;
  CELLA_TRY(map_level(image, offset, length, 0, out));
  return out;
}

Result<bool> known_zero(BlockImage* image, uint64_t offset, uint64_t length) {
  if (image == nullptr || offset >= image->size()) return true;
  const uint64_t inside = std::min(length, image->size() - offset);
  CELLA_TRY_ASSIGN(extents, map_chain(*image, offset, inside));
  return std::none_of(extents.begin(), extents.end(),
                      [](const Extent& extent) { return extent.kind == ExtentKind::kData; });
}

}  // namespace cella::block::ops
