#include "block/ops/convert.h"

#include <algorithm>
#include <vector>

#include "base/bits.h"
#include "block/ops/chain_map.h"
#include "block/ops/zero.h"

namespace cella::block::ops {

namespace {

// What to do with a range of the source.
enum class Action { kSkip, kZero, kData };

class Converter {
 public:
  Converter(BlockImage& source, BlockImage& target, const ConvertOptions& options)
      : source_(source), target_(target), options_(options) {}

  Result<void> run() {
    if (target_.size() < source_.size()) {
      return make_error("the target ({} bytes) is smaller than the source ({} bytes)",
                        target_.size(), source_.size());
    }
    uint64_t chunk = kChunkSize;
    if (options_.compress) {
      if (!target_.supports_compressed_writes() || target_.cluster_size() == 0) {
        return make_error("{} images do not support compressed writes", target_.format_name());
      }
      chunk = align_up(kChunkSize, target_.cluster_size());
    }
    buffer_.resize(static_cast<size_t>(chunk));
    auto step = [this](uint64_t offset, uint64_t length) { return copy_chunk(offset, length); };
    CELLA_TRY(for_each_chunk(source_.size(), chunk, options_.progress, step));
    return target_.flush();
  }

 private:
  Result<void> copy_chunk(uint64_t offset, uint64_t length) {
    CELLA_TRY_ASSIGN(extents, source_map(offset, length));
    return options_.compress ? copy_compressed(offset, length, extents) : copy_extents(extents);
  }

  Result<std::vector<Extent>> source_map(uint64_t offset, uint64_t length) {
    if (options_.top_only) return map_image(source_, offset, length);
    return map_chain(source_, offset, length);
  }

  Action action(const Extent& extent) const {
    // With top_only, what the source's backing answers is already in the target's backing;
    // without a backing image those ranges read as zeros and must be written as such.
    if (options_.top_only && !in_top_image(extent) && source_.backing() != nullptr) {
      return Action::kSkip;
    }
    return extent.kind == ExtentKind::kData ? Action::kData : Action::kZero;
  }

  // Makes [offset, offset+length) of the target read as zeros, unless it already does.
  Result<void> write_zero_range(uint64_t offset, uint64_t length) {
    if (options_.min_sparse == 0) {  // fully allocated target: real zeros
      std::fill_n(buffer_.begin(), length, 0);
      return target_.write(offset, std::span<const uint8_t>(buffer_.data(), length));
    }
    if (options_.target_zeroed) return ok();
    return target_.write_zeroes(offset, length, /*may_unmap=*/true);
  }

  Result<void> copy_extents(const std::vector<Extent>& extents) {
    for (const Extent& extent : extents) {
      switch (action(extent)) {
        case Action::kSkip:
          break;
        case Action::kZero:
          CELLA_TRY(write_zero_range(extent.offset, extent.length));
          break;
        case Action::kData:
          CELLA_TRY(copy_data(extent.offset, extent.length));
          break;
      }
    }
    return ok();
  }

  // Copies data, leaving out the min_sparse-aligned blocks that hold only zeros.
  Result<void> copy_data(uint64_t offset, uint64_t length) {
    std::span<uint8_t> data(buffer_.data(), static_cast<size_t>(length));
    CELLA_TRY(source_.read(offset, data));
    if (options_.min_sparse == 0) return target_.write(offset, data);
    uint64_t run_start = offset;
    bool run_zero = false;
    const uint64_t end = offset + length;
    for (uint64_t at = offset; at < end;) {
      const uint64_t next =
          std::min(end, align_down(at, options_.min_sparse) + options_.min_sparse);
      const bool zero = is_zero(data.subspan(at - offset, next - at));
      if (zero != run_zero && at > run_start) {
        CELLA_TRY(write_run(run_start, at, run_zero, data, offset));
        run_start = at;
      }
      run_zero = zero;
      at = next;
    }
    return write_run(run_start, end, run_zero, data, offset);
  }

  Result<void> write_run(uint64_t start, uint64_t end, bool zero, std::span<uint8_t> data,
                         uint64_t data_offset) {
    if (zero) {
      if (options_.target_zeroed) return ok();
      return target_.write_zeroes(start, end - start, /*may_unmap=*/true);
    }
    return target_.write(start, data.subspan(start - data_offset, end - start));
  }

  // Compressed copy: every cluster that is not all zeros is read whole and compressed.
  Result<void> copy_compressed(uint64_t offset, uint64_t length,
                               const std::vector<Extent>& extents) {
    const uint64_t cluster = target_.cluster_size();
    auto next_extent = extents.begin();
    for (uint64_t at = offset; at < offset + length; at += cluster) {
      const uint64_t n = std::min(cluster, offset + length - at);
      bool any_data = false;
      bool any_zero = false;
      while (next_extent != extents.end() && next_extent->offset + next_extent->length <= at) {
        ++next_extent;
      }
      for (auto it = next_extent; it != extents.end() && it->offset < at + n; ++it) {
        const Action a = action(*it);
        any_data |= a == Action::kData;
        any_zero |= a == Action::kZero;
      }
      if (!any_data) {
        if (any_zero) CELLA_TRY(zero_parts(at, n, extents));
        continue;
      }
      std::span<uint8_t> data(buffer_.data(), static_cast<size_t>(n));
      CELLA_TRY(source_.read(at, data));
      if (options_.min_sparse != 0 && is_zero(data)) {
        CELLA_TRY(write_zero_range(at, n));
      } else if (n == cluster || at + n == target_.size()) {
        CELLA_TRY(target_.write_compressed(at, data));
      } else {  // a short last cluster that is not at the target's end (`-n` to a larger disk)
        CELLA_TRY(target_.write(at, data));
      }
    }
    return ok();
  }

  // Writes zeros over the kZero parts of [at, at+n) (the rest is skipped).
  Result<void> zero_parts(uint64_t at, uint64_t n, const std::vector<Extent>& extents) {
    for (const Extent& extent : extents) {
      const uint64_t start = std::max(at, extent.offset);
      const uint64_t end = std::min(at + n, extent.offset + extent.length);
      if (start < end && action(extent) == Action::kZero) {
        CELLA_TRY(write_zero_range(start, end - start));
      }
    }
    return ok();
  }

  BlockImage& source_;
  BlockImage& target_;
  const ConvertOptions& options_;
  std::vector<uint8_t> buffer_;
};

}  // namespace

Result<void> convert(BlockImage& source, BlockImage& target, const ConvertOptions& options) {
  return Converter(source, target, options).run();
}

}  // namespace cella::block::ops
