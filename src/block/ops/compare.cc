#include "block/ops/compare.h"

#include <algorithm>
#include <vector>

#include "block/ops/chain_map.h"
#include "block/ops/zero.h"

namespace cella::block::ops {

namespace {

bool present(const Extent& extent) {
  return extent.kind != ExtentKind::kUnallocated;
}

class Comparer {
 public:
  Comparer(BlockImage& a, BlockImage& b, const CompareOptions& options)
      : a_(a), b_(b), options_(options), buffer_a_(kChunkSize), buffer_b_(kChunkSize) {}

  Result<Comparison> run() {
    Comparison result;
    result.size_mismatch = a_.size() != b_.size();
    if (result.size_mismatch && options_.strict) {
      result.difference = Difference::kSize;
      result.offset = std::min(a_.size(), b_.size());
      return result;
    }
    const uint64_t common = std::min(a_.size(), b_.size());
    BlockImage& larger = a_.size() > b_.size() ? a_ : b_;
    const uint64_t total = larger.size();
    for (uint64_t offset = 0; offset < total && result.difference == Difference::kNone;) {
      // Chunks never straddle the smaller image's end: past it, the larger image must read as
      // zeros.
      const uint64_t limit = offset < common ? common : total;
      const uint64_t length = std::min(kChunkSize, limit - offset);
      if (offset < common) {
        CELLA_TRY(compare_chunk(offset, length, result));
      } else {
        CELLA_TRY(check_zero(larger, offset, length, result));
      }
      offset += length;
      if (options_.progress) options_.progress(offset, total);
    }
    return result;
  }

 private:
  Result<void> check_zero(BlockImage& image, uint64_t offset, uint64_t length, Comparison& result) {
    CELLA_TRY_ASSIGN(extents, map_chain(image, offset, length));
    for (const Extent& extent : extents) {
      if (extent.kind != ExtentKind::kData) continue;
      std::span<uint8_t> data(buffer_a_.data(), static_cast<size_t>(extent.length));
      CELLA_TRY(image.read(extent.offset, data));
      const size_t nonzero = first_nonzero(data);
      if (nonzero != data.size()) {
        result.difference = Difference::kContent;
        result.offset = extent.offset + nonzero;
        return ok();
      }
    }
    return ok();
  }

  Result<void> compare_chunk(uint64_t offset, uint64_t length, Comparison& result) {
    CELLA_TRY_ASSIGN(map_a, map_chain(a_, offset, length));
    CELLA_TRY_ASSIGN(map_b, map_chain(b_, offset, length));
    auto ia = map_a.begin();
    auto ib = map_b.begin();
    for (uint64_t at = offset; at < offset + length;) {
      while (ia->offset + ia->length <= at) ++ia;
      while (ib->offset + ib->length <= at) ++ib;
      const uint64_t end = std::min(ia->offset + ia->length, ib->offset + ib->length);
      if (options_.strict && present(*ia) != present(*ib)) {
        result.difference = Difference::kAllocation;
        result.offset = at;
        return ok();
      }
      if (ia->kind == ExtentKind::kData || ib->kind == ExtentKind::kData) {
        CELLA_TRY_ASSIGN(differs_at, first_difference(at, end - at));
        if (differs_at != end) {
          result.difference = Difference::kContent;
          result.offset = differs_at;
          return ok();
        }
      }
      at = end;
    }
    return ok();
  }

  Result<uint64_t> first_difference(uint64_t offset, uint64_t length) {
    std::span<uint8_t> a(buffer_a_.data(), static_cast<size_t>(length));
    std::span<uint8_t> b(buffer_b_.data(), static_cast<size_t>(length));
    CELLA_TRY(a_.read(offset, a));
    CELLA_TRY(b_.read(offset, b));
    const auto [pa, pb] = std::mismatch(a.begin(), a.end(), b.begin());
    return offset + static_cast<uint64_t>(pa - a.begin());
  }

  BlockImage& a_;
  BlockImage& b_;
  const CompareOptions& options_;
  std::vector<uint8_t> buffer_a_;
  std::vector<uint8_t> buffer_b_;
};

}  // namespace

Result<Comparison> compare(BlockImage& a, BlockImage& b, const CompareOptions& options) {
  return Comparer(a, b, options).run();
}

}  // namespace cella::block::ops
