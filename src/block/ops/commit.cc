#include "block/ops/commit.h"

#include <vector>

#include "block/ops/chain_map.h"

namespace cella::block::ops {

namespace {

// Copies what the overlay allocates in [offset, offset+length) into base.
Result<void> commit_chunk(BlockImage& overlay, BlockImage& base, uint64_t offset, uint64_t length,
                          std::vector<uint8_t>& buffer) {
  CELLA_TRY_ASSIGN(extents, map_image(overlay, offset, length));
  for (const Extent& extent : extents) {
    if (!in_top_image(extent)) continue;
    if (extent.kind == ExtentKind::kZero) {
      CELLA_TRY(base.write_zeroes(extent.offset, extent.length, /*may_unmap=*/true));
      continue;
    }
    std::span<uint8_t> data(buffer.data(), static_cast<size_t>(extent.length));
    CELLA_TRY(overlay.read(extent.offset, data));
    CELLA_TRY(base.write(extent.offset, data));
  }
  return ok();
}

}  // namespace

Result<void> commit(BlockImage& overlay, const CommitOptions& options) {
  BlockImage* base = overlay.backing();
  if (base == nullptr) return make_error("{}: the image has no backing file", overlay.path());
  if (base->read_only()) {
    return make_error("{}: the backing image is open read-only", base->path());
  }
  if (base->size() < overlay.size()) CELLA_TRY(base->resize(overlay.size()));
  std::vector<uint8_t> buffer(kChunkSize);
  auto step = [&](uint64_t offset, uint64_t length) {
    return commit_chunk(overlay, *base, offset, length, buffer);
  };
  CELLA_TRY(for_each_chunk(overlay.size(), kChunkSize, options.progress, step));
  CELLA_TRY(base->flush());
  if (options.keep_overlay) return ok();
  CELLA_TRY(overlay.make_empty());
  return overlay.flush();
}

}  // namespace cella::block::ops
