#include "block/ops/rebase.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "base/bits.h"
#include "block/ops/chain_map.h"
#include "block/ops/zero.h"

namespace cella::block::ops {

namespace {

// Differing ranges are copied in blocks of the overlay's cluster size (64 KiB without one), so
// that a cluster is written once and whole.
constexpr uint64_t kDefaultGranularity = 64 << 10;

class Rebaser {
 public:
  Rebaser(BlockImage& overlay, const RebaseTarget& target)
      : overlay_(overlay), target_(target), old_(kChunkSize), new_(kChunkSize) {
    granularity_ = overlay.cluster_size() != 0 ? overlay.cluster_size() : kDefaultGranularity;
  }

  // Makes [offset, offset+length), which the overlay does not allocate, independent of which
  // backing is underneath: where the two backings differ, the old content is written.
  Result<void> fix_range(uint64_t offset, uint64_t length) {
    CELLA_TRY_ASSIGN(old_zero, known_zero(overlay_.backing(), offset, length));
    CELLA_TRY_ASSIGN(new_zero, known_zero(target_.image, offset, length));
    if (old_zero && new_zero) return ok();
    std::span<uint8_t> old_data(old_.data(), static_cast<size_t>(length));
    std::span<uint8_t> new_data(new_.data(), static_cast<size_t>(length));
    CELLA_TRY(overlay_.read(offset, old_data));
    CELLA_TRY(read_zero_filled(target_.image, offset, new_data));
    const uint64_t end = offset + length;
    for (uint64_t at = offset; at < end;) {
      const uint64_t next = std::min(end, align_down(at, granularity_) + granularity_);
      const size_t i = static_cast<size_t>(at - offset);
      const size_t n = static_cast<size_t>(next - at);
      if (std::memcmp(old_data.data() + i, new_data.data() + i, n) != 0) {
        CELLA_TRY(overlay_.write(at, old_data.subspan(i, n)));
      }
      at = next;
    }
    return ok();
  }

  Result<void> fix_chunk(uint64_t offset, uint64_t length) {
    CELLA_TRY_ASSIGN(extents, map_image(overlay_, offset, length));
    for (const Extent& extent : extents) {
      if (!in_top_image(extent)) CELLA_TRY(fix_range(extent.offset, extent.length));
    }
    return ok();
  }

  Result<void> run(const Progress& progress) {
    if (overlay_.read_only()) return make_error("{}: the image is open read-only", overlay_.path());
    auto step = [this](uint64_t offset, uint64_t length) { return fix_chunk(offset, length); };
    CELLA_TRY(for_each_chunk(overlay_.size(), kChunkSize, progress, step));
    CELLA_TRY(overlay_.flush());
    CELLA_TRY(overlay_.set_backing(target_.file, target_.format));
    return overlay_.flush();
  }

 private:
  BlockImage& overlay_;
  const RebaseTarget& target_;
  uint64_t granularity_;
  std::vector<uint8_t> old_;
  std::vector<uint8_t> new_;
};

}  // namespace

Result<void> rebase(BlockImage& overlay, const RebaseTarget& target, const Progress& progress) {
  return Rebaser(overlay, target).run(progress);
}

}  // namespace cella::block::ops
