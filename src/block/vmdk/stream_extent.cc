#include "block/vmdk/stream_extent.h"

#include <algorithm>
#include <cstring>

#include "base/bits.h"
#include "base/log.h"
#include "block/vmdk/grain_stream.h"
#include "block/vmdk/sparse_extent.h"

namespace cella::block::vmdk {

namespace {

using Tables = std::map<uint64_t, std::vector<uint32_t>>;

void append_marker(std::vector<uint8_t>& out, uint64_t sectors, MarkerType type) {
  out.resize(out.size() + 512);
  encode_metadata_marker(std::span<uint8_t>(out).last(512), sectors, type);
}

void append_entries(std::vector<uint8_t>& out, const std::vector<uint32_t>& entries) {
  const size_t at = out.size();
  out.resize(at + align_up(entries.size() * 4, 512), 0);
  for (size_t i = 0; i < entries.size(); ++i) store_le<uint32_t>(&out[at + i * 4], entries[i]);
}

// "Stream-Optimized Compressed Sparse Extents", layout after the grains: each grain table
// behind its marker, the grain directory behind its marker, the footer marker and footer, and
// the end-of-stream marker. `at` is the (sector-aligned) offset where it will be written.
std::vector<uint8_t> build_trailer(const SparseHeader& header, const Tables& tables, uint64_t at) {
  std::vector<uint8_t> out;
  std::vector<uint32_t> directory(header.gd_entries(), 0);
  const uint64_t table_sectors = align_up(header.gt_bytes(), 512) / 512;
  for (const auto& [index, entries] : tables) {
    append_marker(out, table_sectors, MarkerType::kGrainTable);
    directory[index] = static_cast<uint32_t>((at + out.size()) / 512);
    append_entries(out, entries);
  }
  append_marker(out, align_up(header.gd_bytes(), 512) / 512, MarkerType::kGrainDirectory);
  SparseHeader footer = header;
  footer.gd_offset = (at + out.size()) / 512;
  append_entries(out, directory);
  append_marker(out, 1, MarkerType::kFooter);
  out.resize(out.size() + 512);
  encode_sparse_header(footer, std::span<uint8_t>(out).last(512));
  append_marker(out, 0, MarkerType::kEndOfStream);
  return out;
}

Result<void> write_trailer_at(HostFile& file, const SparseHeader& header, const Tables& tables,
                              uint64_t at) {
  const std::vector<uint8_t> trailer = build_trailer(header, tables, at);
  if ((at + trailer.size()) / 512 > UINT32_MAX) {
    return make_error(
        "{}: the stream would grow beyond the 2 TiB that 32-bit grain table "
        "entries address",
        file.path());
  }
  CELLA_TRY(file.write(at, trailer));
  return file.truncate(at + trailer.size());
}

}  // namespace

Result<void> StreamExtent::write_empty_trailer(HostFile& file, const SparseHeader& header,
                                               uint64_t at) {
  return write_trailer_at(file, header, {}, at);
}

Result<std::unique_ptr<StreamExtent>> StreamExtent::open(HostFile file) {
  std::vector<uint8_t> sector(kSparseHeaderSize);
  CELLA_TRY(file.read_zero_filled(0, sector));
  CELLA_TRY_ASSIGN(raw, decode_sparse_header(sector));
  if (raw.gd_offset != kGdAtEnd) {
    return make_error(
        "{}: this streamOptimized image keeps its grain directory at the start (as "
        "qemu writes it); Cella appends only to streams with the directory at the "
        "end: open it read-only, or convert it to monolithicSparse",
        file.path());
  }
  CELLA_TRY_ASSIGN(header, read_effective_header(file));
  CELLA_TRY_ASSIGN(file_size, file.size());
  const uint64_t table_sectors = align_up(header.gt_bytes(), 512) / 512;
  uint64_t trailer = (header.gd_offset - 1) * 512;
  if (header.gd_offset == 0 || header.gd_offset > file_size / 512 ||
      header.gd_offset * 512 + header.gd_bytes() > file_size) {
    return make_error("{}: the footer's grain directory is outside the file", file.path());
  }
  std::vector<uint8_t> bytes(header.gd_bytes());
  CELLA_TRY(file.read(header.gd_offset * 512, bytes));
  Tables tables;
  uint64_t last_grain_end = header.overhead * 512;
  for (uint64_t t = 0; t < header.gd_entries(); ++t) {
    const uint64_t gde = load_le<uint32_t>(&bytes[t * 4]);
    if (gde == 0) continue;
    if (gde * 512 + table_sectors * 512 > file_size) {
      return make_error("{}: grain table {} is outside the file", file.path(), t);
    }
    trailer = std::min(trailer, (gde - 1) * 512);
    std::vector<uint8_t> table(header.gt_bytes());
    CELLA_TRY(file.read(gde * 512, table));
    std::vector<uint32_t> entries(header.num_gtes_per_gt);
    bool any = false;
    for (size_t i = 0; i < entries.size(); ++i) {
      entries[i] = load_le<uint32_t>(&table[i * 4]);
      if (entries[i] != 0) {
        any = true;
        last_grain_end = std::max(last_grain_end, uint64_t{entries[i]} * 512 + kGrainMarkerPrefix);
      }
    }
    if (any) tables.emplace(t, std::move(entries));
  }
  if (last_grain_end > trailer || trailer < header.overhead * 512) {
    return make_error(
        "{}: grains follow this stream's grain tables, so Cella cannot append to "
        "it: open it read-only, or convert it to monolithicSparse",
        file.path());
  }
  std::unique_ptr<StreamExtent> extent(new StreamExtent(std::move(file), header, trailer));
  extent->tables_ = std::move(tables);
  return extent;
}

StreamExtent::~StreamExtent() {
  if (!dirty_ || !file_.writable()) return;
  if (auto result = flush(); !result) {
    log::error("{}: completing the stream failed: {}", file_.path(), result.error().message());
  }
}

Result<void> StreamExtent::set_size(uint64_t bytes) {
  if (bytes > header_.capacity * 512) {
    return make_error("{}: the descriptor gives the extent {} sectors but its capacity is {}",
                      file_.path(), bytes / 512, header_.capacity);
  }
  size_ = bytes;
  return ok();
}

Error StreamExtent::rewrite_refused(uint64_t grain) const {
  return make_error(
      "{}: grain {} (disk offset {}) was already written; a streamOptimized image "
      "is written once, in order: convert it to monolithicSparse to modify it",
      file_.path(), grain, grain * grain_bytes());
}

uint32_t StreamExtent::entry(uint64_t grain) const {
  auto it = tables_.find(grain / header_.num_gtes_per_gt);
  return it == tables_.end() ? 0 : it->second[grain % header_.num_gtes_per_gt];
}

Result<Segment> StreamExtent::lookup(uint64_t offset, uint64_t max_length) {
  const uint64_t grain_size = grain_bytes();
  uint64_t grain = offset / grain_size;
  Segment segment{ExtentKind::kData, std::min(grain_size - offset % grain_size, max_length), -1,
                  entry(grain)};
  if (grain == pending_grain_ || segment.compressed_sector != 0) return segment;
  segment.kind = ExtentKind::kUnallocated;
  const uint64_t per_table = header_.num_gtes_per_gt;
  while (segment.length < max_length && ++grain != pending_grain_ && entry(grain) == 0) {
    uint64_t next = grain + 1;
    // A grain table holding no grain (and not the pending one) is skipped whole.
    if (!tables_.contains(grain / per_table) && pending_grain_ / per_table != grain / per_table) {
      next = (grain / per_table + 1) * per_table;
    }
    segment.length = std::min(max_length, next * grain_size - offset);
    grain = next - 1;
  }
  return segment;
}

Result<void> StreamExtent::read(const Segment& segment, uint64_t offset, std::span<uint8_t> out) {
  const uint64_t grain = offset / grain_bytes();
  const uint64_t within = offset % grain_bytes();
  if (grain == pending_grain_) {
    std::memcpy(out.data(), pending_.data() + within, out.size());
    return ok();
  }
  if (inflated_grain_ != grain) {
    inflated_grain_ = kNone;
    CELLA_TRY(read_compressed_grain(file_, header_, append_at_, grain, segment.compressed_sector,
                                    inflated_));
    inflated_grain_ = grain;
  }
  std::memcpy(out.data(), inflated_.data() + within, out.size());
  return ok();
}

Result<void> StreamExtent::write(uint64_t offset, std::span<const uint8_t> data,
                                 const Background&) {
  if (!writable()) return make_error("{}: the image is open read-only", file_.path());
  const uint64_t grain_size = grain_bytes();
  while (!data.empty()) {
    const uint64_t grain = offset / grain_size;
    const uint64_t within = offset % grain_size;
    const uint64_t length = std::min<uint64_t>(grain_size - within, data.size());
    if (grain != pending_grain_) {
      if (entry(grain) != 0) {
        return rewrite_refused(grain);
      }
      CELLA_TRY(emit_pending());
      pending_grain_ = grain;
      pending_.assign(grain_size, 0);
    }
    std::memcpy(pending_.data() + within, data.data(), length);
    dirty_ = true;
    offset += length;
    data = data.subspan(length);
  }
  return ok();
}

Result<void> StreamExtent::write_zeroes(uint64_t offset, uint64_t length, bool, bool,
                                        const Background&) {
  if (!writable()) return make_error("{}: the image is open read-only", file_.path());
  const uint64_t grain_size = grain_bytes();
  const uint64_t end = offset + length;
  for (uint64_t grain = offset / grain_size; grain * grain_size < end; ++grain) {
    const uint64_t from = std::max(offset, grain * grain_size);
    const uint64_t to = std::min(end, (grain + 1) * grain_size);
    if (grain == pending_grain_) {
      std::memset(pending_.data() + from % grain_size, 0, to - from);
    } else if (entry(grain) != 0) {
      return rewrite_refused(grain);
    }
  }
  return ok();
}

Result<void> StreamExtent::emit_pending() {
  if (pending_grain_ == kNone) return ok();
  const uint64_t grain = pending_grain_;
  pending_grain_ = kNone;
  // A written grain is stored even when it holds only zeros, as qemu-img does (so that
  // `convert -S 0` allocates everything); grains never written stay unallocated.
  // "Grain Marker": the LBA of the grain and the compressed size, then the deflate stream,
  // padded to a sector.
  std::vector<uint8_t> buffer(kGrainMarkerPrefix);
  CELLA_TRY(compress_grain(pending_, buffer));
  const uint32_t compressed = static_cast<uint32_t>(buffer.size() - kGrainMarkerPrefix);
  encode_grain_marker(buffer, grain * header_.grain_size, compressed);
  buffer.resize(align_up(buffer.size(), 512), 0);
  if ((append_at_ + buffer.size()) / 512 > UINT32_MAX) {
    return make_error(
        "{}: the stream would grow beyond the 2 TiB that 32-bit grain table "
        "entries address",
        file_.path());
  }
  CELLA_TRY(file_.write(append_at_, buffer));
  auto& table = tables_[grain / header_.num_gtes_per_gt];
  if (table.empty()) table.assign(header_.num_gtes_per_gt, 0);
  table[grain % header_.num_gtes_per_gt] = static_cast<uint32_t>(append_at_ / 512);
  append_at_ += buffer.size();
  return ok();
}

Result<void> StreamExtent::write_trailer() {
  return write_trailer_at(file_, header_, tables_, append_at_);
}

Result<void> StreamExtent::flush() {
  if (!dirty_) return file_.flush();
  CELLA_TRY(emit_pending());
  CELLA_TRY(write_trailer());
  dirty_ = false;
  return file_.flush();
}

Result<void> StreamExtent::check(CheckReport& report, bool) {
  if (writable()) CELLA_TRY(flush());
  report.total_clusters += (size_ + grain_bytes() - 1) / grain_bytes();
  std::vector<uint8_t> grain_data;
  for (const auto& [index, entries] : tables_) {
    for (size_t i = 0; i < entries.size(); ++i) {
      if (entries[i] == 0) continue;
      ++report.allocated_clusters;
      const uint64_t grain = index * header_.num_gtes_per_gt + i;
      auto result =
          read_compressed_grain(file_, header_, append_at_, grain, entries[i], grain_data);
      if (!result) {
        ++report.corruptions;
        report.messages.push_back(fmt::format("ERROR: {}", result.error().message()));
      }
    }
  }
  return ok();
}

}  // namespace cella::block::vmdk
