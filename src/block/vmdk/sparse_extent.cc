#include "block/vmdk/sparse_extent.h"

#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "base/log.h"
#include "block/vmdk/grain_stream.h"

namespace cella::block::vmdk {

namespace {

// "Stream-Optimized Compressed Sparse Extents": the file ends with a footer marker, the footer
// (a copy of the header holding the real gdOffset) and an end-of-stream marker.
Result<SparseHeader> read_footer(const HostFile& file) {
  CELLA_TRY_ASSIGN(file_size, file.size());
  if (file_size < 4 * 512) {
    return make_error(
        "the header says the grain directory is at the end, but the file is too "
        "short to hold a footer");
  }
  std::vector<uint8_t> tail(3 * 512);
  CELLA_TRY(file.read(file_size - tail.size(), tail));
  const Marker footer_marker = decode_marker(tail);
  const Marker end_marker = decode_marker(std::span<const uint8_t>(tail).subspan(1024));
  if (footer_marker.size != 0 || footer_marker.type != static_cast<uint32_t>(MarkerType::kFooter)) {
    return make_error(
        "the header says the grain directory is at the end, but there is no footer "
        "marker (an incomplete stream?)");
  }
  if (end_marker.value != 0 || end_marker.size != 0 ||
      end_marker.type != static_cast<uint32_t>(MarkerType::kEndOfStream)) {
    return make_error("the footer is not followed by an end-of-stream marker");
  }
  auto footer = decode_sparse_header(std::span<const uint8_t>(tail).subspan(512, 512));
  if (!footer) return footer.error().context("footer");
  if (footer->gd_offset == kGdAtEnd) {
    return make_error("the footer does not give the grain directory's offset");
  }
  return footer;
}

}  // namespace

Result<SparseHeader> read_effective_header(const HostFile& file) {
  std::vector<uint8_t> sector(kSparseHeaderSize);
  CELLA_TRY(file.read_zero_filled(0, sector));
  CELLA_TRY_ASSIGN(header, decode_sparse_header(sector));
  if (header.gd_offset != kGdAtEnd) return header;
  CELLA_TRY_ASSIGN(footer, read_footer(file));
  if (footer.capacity != header.capacity || footer.grain_size != header.grain_size) {
    return make_error("the footer's capacity or grain size differs from the header's");
  }
  return footer;
}

Result<std::unique_ptr<SparseExtent>> SparseExtent::open(HostFile file) {
  CELLA_TRY_ASSIGN(header, read_effective_header(file));
  CELLA_TRY_ASSIGN(file_size, file.size());
  if (header.overhead > file_size / 512) {
    return make_error("the header's overhead ({} sectors) is beyond the end of the file",
                      header.overhead);
  }
  const uint64_t end = header.compressed() ? file_size
                                           : align_up(std::max(file_size, header.overhead * 512),
                                                      header.grain_bytes());
  std::unique_ptr<SparseExtent> extent(new SparseExtent(std::move(file), header, end));
  const uint64_t rgd = header.redundant() ? header.rgd_offset : 0;
  auto tables = GrainTables::load(&extent->file_, header, header.gd_offset, rgd, file_size);
  if (!tables) return tables.error();
  extent->tables_.emplace(std::move(*tables));
  return extent;
}

SparseExtent::~SparseExtent() {
  if (!in_use_) return;
  // A clean close: the grain tables written back, then uncleanShutdown cleared.
  auto result = tables_->flush();
  if (result) result = write_header(false);
  if (result) result = file_.flush();
  if (!result) log::error("{}: closing failed: {}", file_.path(), result.error().message());
}

Result<void> SparseExtent::write_header(bool unclean) {
  SparseHeader header = header_;
  header.unclean_shutdown = unclean;
  std::vector<uint8_t> sector(kSparseHeaderSize);
  encode_sparse_header(header, sector);
  return file_.write(0, sector);
}

Result<void> SparseExtent::begin_writing() {
  if (in_use_) return ok();
  if (!writable()) return make_error("{}: the extent is not writable", file_.path());
  // "Hosted Sparse Extent Header", uncleanShutdown: set while the extent is open for writing,
  // durable before the first change.
  CELLA_TRY(write_header(true));
  CELLA_TRY(file_.flush());
  in_use_ = true;
  return ok();
}

Result<void> SparseExtent::set_size(uint64_t bytes) {
  if (bytes > header_.capacity * 512) {
    return make_error("{}: the descriptor gives the extent {} sectors but its capacity is {}",
                      file_.path(), bytes / 512, header_.capacity);
  }
  size_ = bytes;
  return ok();
}

Result<Segment> SparseExtent::classify(uint64_t grain, uint32_t gte) {
  // "Grain Directories and Grain Tables": 0 is an unallocated grain; 5.0: with zeroed-grain
  // GTEs, 1 is a grain that reads as zeros.
  if (gte == 0) return Segment{ExtentKind::kUnallocated, 0, -1, 0};
  if (gte == 1 && header_.zeroed_grain()) return Segment{ExtentKind::kZero, 0, -1, 0};
  const uint64_t need = header_.compressed() ? kGrainMarkerPrefix : 1;
  if (uint64_t{gte} * 512 + need > end_) {
    return make_error(
        "{}: the grain table entry of grain {} points to sector {}, beyond the end "
        "of the file",
        file_.path(), grain, gte);
  }
  if (header_.compressed()) return Segment{ExtentKind::kData, 0, -1, gte};
  return Segment{ExtentKind::kData, 0, static_cast<int64_t>(uint64_t{gte} * 512), 0};
}

Result<Segment> SparseExtent::lookup(uint64_t offset, uint64_t max_length) {
  const uint64_t grain_size = grain_bytes();
  uint64_t grain = offset / grain_size;
  CELLA_TRY_ASSIGN(gte, tables_->get(grain));
  CELLA_TRY_ASSIGN(segment, classify(grain, gte));
  const uint64_t within = offset % grain_size;
  segment.length = std::min(grain_size - within, max_length);
  if (segment.host_offset >= 0) segment.host_offset += static_cast<int64_t>(within);
  if (segment.kind == ExtentKind::kData && header_.compressed()) return segment;
  while (segment.length < max_length) {
    ++grain;
    if (segment.kind == ExtentKind::kUnallocated && !tables_->has_table(grain)) {
      // A whole absent grain table: skip it at once.
      const uint64_t table_end =
          (grain / header_.num_gtes_per_gt + 1) * header_.num_gtes_per_gt * grain_size;
      segment.length = std::min(max_length, table_end - offset);
      grain = table_end / grain_size - 1;
      continue;
    }
    CELLA_TRY_ASSIGN(next_gte, tables_->get(grain));
    CELLA_TRY_ASSIGN(next, classify(grain, next_gte));
    if (next.kind != segment.kind) break;
    if (next.kind == ExtentKind::kData &&
        (header_.compressed() ||
         next.host_offset != segment.host_offset + static_cast<int64_t>(segment.length))) {
      break;
    }
    segment.length += std::min(grain_size, max_length - segment.length);
  }
  return segment;
}

Result<void> SparseExtent::read_compressed(uint64_t grain, uint64_t sector) {
  if (inflated_grain_ == grain) return ok();
  inflated_grain_ = ~uint64_t{0};
  CELLA_TRY(read_compressed_grain(file_, header_, end_, grain, sector, inflated_));
  inflated_grain_ = grain;
  return ok();
}

Result<void> SparseExtent::read(const Segment& segment, uint64_t offset, std::span<uint8_t> out) {
  if (segment.host_offset >= 0) {
    return file_.read_zero_filled(static_cast<uint64_t>(segment.host_offset), out);
  }
  const uint64_t grain = offset / grain_bytes();
  CELLA_TRY(read_compressed(grain, segment.compressed_sector));
  std::memcpy(out.data(), inflated_.data() + offset % grain_bytes(), out.size());
  return ok();
}

Result<uint64_t> SparseExtent::allocate(uint64_t bytes) {
  const uint64_t slot = end_;
  const uint64_t length = align_up(bytes, grain_bytes());
  // GTEs and GDEs are 32-bit sector numbers: an extent file cannot grow past 2 TiB.
  if ((slot + length) / 512 > UINT32_MAX) {
    return make_error(
        "{}: the extent file would grow beyond the 2 TiB that 32-bit grain table "
        "entries address",
        file_.path());
  }
  end_ += length;
  return slot;
}

Result<uint64_t> SparseExtent::write_new_grains(uint64_t offset, std::span<const uint8_t> data,
                                                const Segment& segment,
                                                const Background& background) {
  const uint64_t grain_size = grain_bytes();
  const uint64_t grain = offset / grain_size;
  const uint64_t within = offset % grain_size;
  const auto allocator = [this](uint64_t bytes) { return allocate(bytes); };
  if (within == 0 && data.size() >= grain_size) {
    // Whole grains: one contiguous allocation, written straight from the caller's buffer.
    const uint64_t count = segment.length / grain_size;
    CELLA_TRY_ASSIGN(slot, allocate(count * grain_size));
    CELLA_TRY(file_.write(slot, data.first(count * grain_size)));
    for (uint64_t i = 0; i < count; ++i) {
      CELLA_TRY(
          tables_->set(grain + i, static_cast<uint32_t>((slot + i * grain_size) / 512), allocator));
    }
    return count * grain_size;
  }
  // Part of a grain: complete it with what the disk reads there now.
  std::vector<uint8_t> buffer(grain_size, 0);
  const uint64_t grain_start = grain * grain_size;
  if (segment.kind == ExtentKind::kUnallocated) {
    const uint64_t inside = std::min(grain_size, size_ - grain_start);
    CELLA_TRY(background(grain_start, std::span<uint8_t>(buffer.data(), inside)));
  }
  const uint64_t length = std::min<uint64_t>(grain_size - within, data.size());
  std::memcpy(buffer.data() + within, data.data(), length);
  CELLA_TRY_ASSIGN(slot, allocate(grain_size));
  CELLA_TRY(file_.write(slot, buffer));
  CELLA_TRY(tables_->set(grain, static_cast<uint32_t>(slot / 512), allocator));
  return length;
}

Result<void> SparseExtent::write(uint64_t offset, std::span<const uint8_t> data,
                                 const Background& background) {
  if (!writable()) return make_error("{}: the extent is not writable", file_.path());
  while (!data.empty()) {
    CELLA_TRY_ASSIGN(segment, lookup(offset, data.size()));
    uint64_t done = 0;
    if (segment.kind == ExtentKind::kData) {
      if (static_cast<uint64_t>(segment.host_offset) < header_.overhead * 512) {
        return make_error(
            "{}: the grain table entry of grain {} points into the extent's "
            "metadata; refusing to write there",
            file_.path(), offset / grain_bytes());
      }
      done = segment.length;
      CELLA_TRY(file_.write(static_cast<uint64_t>(segment.host_offset), data.first(done)));
    } else {
      CELLA_TRY_ASSIGN(written, write_new_grains(offset, data, segment, background));
      done = written;
    }
    offset += done;
    data = data.subspan(done);
  }
  return ok();
}

std::pair<uint64_t, uint64_t> SparseExtent::whole_grains(uint64_t offset, uint64_t length) const {
  const uint64_t grain_size = grain_bytes();
  const uint64_t end = offset + length;
  const uint64_t first = align_up(offset, grain_size);
  const uint64_t last = end == size_ ? align_up(end, grain_size) : align_down(end, grain_size);
  return {first, std::max(first, last)};
}

Result<void> SparseExtent::deallocate(uint64_t offset, uint64_t length, bool zeroed) {
  const uint64_t grain_size = grain_bytes();
  const auto allocator = [this](uint64_t bytes) { return allocate(bytes); };
  const uint32_t value = zeroed ? 1 : 0;
  for (uint64_t grain = offset / grain_size; grain * grain_size < offset + length; ++grain) {
    CELLA_TRY_ASSIGN(gte, tables_->get(grain));
    if (gte == value) continue;
    CELLA_TRY_ASSIGN(old, classify(grain, gte));
    CELLA_TRY(tables_->set(grain, value, allocator));
    // The grain's space goes back to the host. Grains are never reused, so if a crash keeps
    // the old GTE it points at a hole, which reads as zeros.
    if (old.kind == ExtentKind::kData && old.host_offset >= 0 &&
        static_cast<uint64_t>(old.host_offset) >= header_.overhead * 512) {
      CELLA_TRY(file_.punch_hole(static_cast<uint64_t>(old.host_offset), grain_size));
    }
  }
  return ok();
}

Result<void> SparseExtent::write_zeroes(uint64_t offset, uint64_t length, bool may_unmap,
                                        bool has_backing, const Background& background) {
  if (!writable()) return make_error("{}: the extent is not writable", file_.path());
  const auto [first, last] = whole_grains(offset, length);
  // Partial grains at either end: only where they do not already read as zeros.
  const auto zero_partial = [&](uint64_t at, uint64_t end) -> Result<void> {
    while (at < end) {
      CELLA_TRY_ASSIGN(segment, lookup(at, end - at));
      const bool zero = segment.kind == ExtentKind::kZero ||
                        (segment.kind == ExtentKind::kUnallocated && !has_backing);
      if (!zero) {
        CELLA_TRY(DiskExtent::write_zeroes(at, segment.length, may_unmap, has_backing, background));
      }
      at += segment.length;
    }
    return ok();
  };
  if (first >= last) return zero_partial(offset, offset + length);
  CELLA_TRY(zero_partial(offset, first));
  // 5.0: a zeroed-grain GTE reads as zeros even over a parent; without it, only an unallocated
  // grain of a disk without a parent does.
  if (header_.zeroed_grain()) {
    CELLA_TRY(deallocate(first, last - first, true));
  } else if (!has_backing) {
    CELLA_TRY(deallocate(first, last - first, false));
  } else {
    CELLA_TRY(DiskExtent::write_zeroes(first, std::min(last, size_) - first, may_unmap, has_backing,
                                       background));
  }
  return zero_partial(std::min(last, offset + length), offset + length);
}

Result<void> SparseExtent::discard(uint64_t offset, uint64_t length) {
  if (!writable()) return make_error("{}: the extent is not writable", file_.path());
  const auto [first, last] = whole_grains(offset, length);
  if (first >= last) return ok();
  return deallocate(first, last - first, false);
}

Result<void> SparseExtent::flush() {
  if (tables_->dirty()) return tables_->flush();
  return file_.flush();
}

}  // namespace cella::block::vmdk
