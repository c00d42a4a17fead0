#include "block/qcow2/qcow2_image.h"

#include <algorithm>

#include "base/bits.h"
#include "base/log.h"
#include "block/qcow2/bitmaps.h"
#include "block/qcow2/check.h"

namespace cella::block::qcow2 {

namespace {

size_t l2_cache_tables(const Header& header, const Tuning& tuning) {
  const Layout layout = Layout::from(header);
  uint64_t bytes = tuning.l2_cache_bytes;
  if (bytes == 0) {
    bytes = std::min<uint64_t>(kDefaultMaxL2CacheBytes,
                               layout.l1_entries_for(header.size) * layout.cluster_size);
  }
  return static_cast<size_t>(std::max<uint64_t>(4, bytes / layout.cluster_size));
}

size_t refcount_cache_tables(const Header& header, const Tuning& tuning) {
  if (tuning.refcount_cache_bytes != 0) {
    return static_cast<size_t>(
        std::max<uint64_t>(4, tuning.refcount_cache_bytes / header.cluster_size()));
  }
  return std::max<size_t>(4, l2_cache_tables(header, tuning) / 4);
}

Result<std::vector<uint8_t>> read_first_cluster(const HostFile& file) {
  CELLA_TRY_ASSIGN(file_size, file.size());
  if (file_size < kV2HeaderLength) {
    return make_error("file of {} bytes is too small for a qcow2 header", file_size);
  }
  uint8_t bits[4];
  CELLA_TRY(file.read(kOffClusterBits, bits));
  const uint32_t cluster_bits =
      std::clamp(load_be<uint32_t>(bits), kMinClusterBits, kMaxClusterBits);
  std::vector<uint8_t> first(std::min<uint64_t>(file_size, uint64_t{1} << cluster_bits));
  CELLA_TRY(file.read(0, first));
  return first;
}

}  // namespace

Qcow2Image::Qcow2Image(HostFile file, const Header& header, const Tuning& tuning)
    : file_(std::move(file)),
      storage_(file_),
      header_(header),
      layout_(Layout::from(header)),
      refcounts_(storage_, layout_, metadata_, header_, refcount_cache_tables(header, tuning)),
      clusters_(storage_, layout_, metadata_, refcounts_, header_,
                l2_cache_tables(header, tuning)) {}

Qcow2Image::~Qcow2Image() {
  if (auto closed = close(); !closed) {
    log::error("{}: closing the image failed: {}", path(), closed.error().message());
  }
}

Result<std::unique_ptr<Qcow2Image>> Qcow2Image::open(HostFile file, const OpenOptions& options,
                                                     const Tuning& tuning) {
  CELLA_TRY_ASSIGN(file_size, file.size());
  CELLA_TRY_ASSIGN(first, read_first_cluster(file));
  CELLA_TRY_ASSIGN(header, parse_header(first, file_size));
  std::unique_ptr<Qcow2Image> image(new Qcow2Image(std::move(file), header, tuning));
  CELLA_TRY(image->load_metadata());
  if (!image->read_only()) CELLA_TRY(image->prepare_for_writing(options));
  CELLA_TRY(image->open_backing(options));
  return image;
}

Result<void> Qcow2Image::load_metadata() {
  metadata_.clear();
  problems_.clear();
  metadata_.add(0, 1, MetadataKind::kHeader);
  CELLA_TRY(
      refcounts_.load(header_.refcount_table_offset, header_.refcount_table_clusters, problems_));
  CELLA_TRY(clusters_.load(header_.l1_table_offset, header_.l1_size, problems_));
  CELLA_TRY_ASSIGN(table, read_snapshot_table(storage_, header_.snapshots_offset,
                                              header_.nb_snapshots, layout_.cluster_size));
  snapshots_ = std::move(table.snapshots);
  snapshot_table_bytes_ = table.bytes;
  if (table.bytes > 0) {
    if (auto clash =
            metadata_.add(layout_.cluster_index(header_.snapshots_offset),
                          layout_.clusters_for(table.bytes), MetadataKind::kSnapshotTable)) {
      problems_.push_back("the snapshot table overlaps " +
                          describe_region(*clash, layout_.cluster_size));
    }
  }
  CELLA_TRY_ASSIGN(file_size, file_.size());
  for (const Snapshot& s : snapshots_) {
    const uint64_t bytes = uint64_t{s.l1_size} * 8;
    if (bytes > kMaxL1Bytes || s.l1_table_offset % layout_.cluster_size != 0 ||
        (bytes > 0 && (s.l1_table_offset == 0 || s.l1_table_offset > file_size ||
                       bytes > file_size - s.l1_table_offset))) {
      problems_.push_back(fmt::format("snapshot '{}' has an invalid L1 table ({} entries at {:#x})",
                                      s.id, s.l1_size, s.l1_table_offset));
      continue;
    }
    if (bytes == 0) continue;
    if (auto clash = metadata_.add(layout_.cluster_index(s.l1_table_offset),
                                   layout_.clusters_for(bytes), MetadataKind::kSnapshotL1Table)) {
      problems_.push_back(fmt::format("the L1 table of snapshot '{}' overlaps {}", s.id,
                                      describe_region(*clash, layout_.cluster_size)));
    }
  }
  corrupt_ = (header_.incompatible_features & kIncompatCorrupt) != 0 || !problems_.empty();
  corrupt_reason_ = (header_.incompatible_features & kIncompatCorrupt) != 0
                        ? "it is marked corrupt (incompatible feature bit 1)"
                        : (problems_.empty() ? "" : problems_.front());
  return ok();
}

Result<void> Qcow2Image::prepare_for_writing(const OpenOptions& /*options*/) {
  lazy_refcounts_ = header_.lazy_refcounts();
  if (lazy_refcounts_) {
    // With lazy refcounts, refcounts are repaired after a crash (dirty bit): L2 tables only
    // wait for the data they point to.
    clusters_.cache().set_before_write([this] { return storage_.barrier(); });
  }
  // "Bit 0: Dirty bit": refcounts may be inconsistent; rebuild them before any allocation.
  if ((header_.incompatible_features & kIncompatDirty) != 0) {
    CELLA_TRY_ASSIGN(report, check(true));
    if (report.corruptions > 0) {
      return make_error(
          "the image was not closed cleanly and its refcounts could not be repaired: "
          "{}",
          report.messages.empty() ? "" : report.messages.front());
    }
  }
  return ok();
}

Result<void> Qcow2Image::open_backing(const OpenOptions& options) {
  // "== Header == backing_file_offset": relative names are relative to this image's folder;
  // the "Backing file format name" extension names the format, probed when absent.
  CELLA_TRY_ASSIGN(
      backing, open_backing_image(path(), header_.backing_file, header_.backing_format, options));
  backing_ = std::move(backing);
  return ok();
}

Result<void> Qcow2Image::check_request(uint64_t offset, uint64_t length, bool writing) const {
  CELLA_TRY(check_range(writing ? "write" : "read", offset, length));
  if (!writing) return ok();
  if (read_only()) return make_error("{}: the image is open read-only", path());
  if (corrupt_) {
    return make_error(
        "{}: refusing to write: the image is corrupt ({}); repair it with "
        "'cella img check -r all'",
        path(), corrupt_reason_);
  }
  return ok();
}

Result<void> Qcow2Image::write_header_field(uint32_t offset, std::span<const uint8_t> bytes) {
  CELLA_TRY(storage_.write(offset, bytes));
  return storage_.barrier();
}

Result<void> Qcow2Image::set_incompatible_bits(uint64_t bits) {
  if (header_.version < 3 || bits == header_.incompatible_features) return ok();
  uint8_t field[8];
  store_be<uint64_t>(field, bits);
  CELLA_TRY(write_header_field(kOffIncompatibleFeatures, field));
  header_.incompatible_features = bits;
  return ok();
}

Result<void> Qcow2Image::rewrite_header() {
  CELLA_TRY_ASSIGN(first, serialize_header(header_));
  // Only the header and its extensions change: the rest of the first cluster is the backing
  // file name, which serialize_header() places again.
  CELLA_TRY(storage_.write(0, first));
  return storage_.barrier();
}

Result<void> Qcow2Image::begin_writing() {
  if (writing_) return ok();
  // "== Header == autoclear_features": Cella maintains none of them, so it clears them before
  // writing. Dirty bitmaps would become stale: they are dropped and their clusters freed (qemu
  // would otherwise see them as inconsistent and their clusters as leaked).
  if (header_.version >= 3 && (header_.autoclear_features != 0 || header_.bitmaps)) {
    std::vector<HostRange> freed;
    if (header_.bitmaps && (header_.autoclear_features & kAutoclearBitmaps) != 0) {
      std::vector<std::string> skipped;
      CELLA_TRY_ASSIGN(file_size, file_.size());
      CELLA_TRY_ASSIGN(ranges,
                       bitmap_ranges(storage_, *header_.bitmaps, layout_, file_size, skipped));
      freed = std::move(ranges);
      log::warn("{}: dropping {} persistent dirty bitmap(s): Cella does not maintain them", path(),
                header_.bitmaps->nb_bitmaps);
    }
    header_.bitmaps.reset();
    header_.autoclear_features = 0;
    CELLA_TRY(rewrite_header());
    for (const HostRange& range : freed) {
      if (auto released = refcounts_.release(range.offset, range.bytes); !released) {
        return fail_corrupt(released.error());
      }
    }
  }
  if (lazy_refcounts_ && !marked_dirty_) {
    CELLA_TRY(set_incompatible_bits(header_.incompatible_features | kIncompatDirty));
    marked_dirty_ = true;
  }
  writing_ = true;
  return ok();
}

Result<void> Qcow2Image::fail_corrupt(const Error& error) {
  corrupt_ = true;
  corrupt_reason_ = error.message();
  if (!read_only()) {
    // "Bit 1: Corrupt bit": the image must not be written until repaired.
    (void)set_incompatible_bits(header_.incompatible_features | kIncompatCorrupt);
  }
  return make_error("{}: the image is corrupt: {}; repair it with 'cella img check -r all'", path(),
                    error.message());
}

Result<void> Qcow2Image::write_metadata() {
  if (!lazy_refcounts_) CELLA_TRY(refcounts_.write_dirty());
  CELLA_TRY(clusters_.write_dirty());
  CELLA_TRY(refcounts_.write_dirty());
  return storage_.barrier();
}

Result<void> Qcow2Image::apply_pending_frees() {
  if (pending_frees_.empty()) return ok();
  decompressed_entry_ = 0;
  std::vector<PendingFree> frees;
  frees.swap(pending_frees_);
  for (const PendingFree& free : frees) {
    if (auto released = refcounts_.release(free.offset, free.bytes); !released) {
      return fail_corrupt(released.error());
    }
  }
  return ok();
}

Result<void> Qcow2Image::flush() {
  if (read_only()) return ok();
  CELLA_TRY(write_metadata());
  // Nothing on disk references the clusters dropped since the last flush any more.
  return apply_pending_frees();
}

Result<void> Qcow2Image::close() {
  if (read_only()) return ok();
  CELLA_TRY(flush());
  CELLA_TRY(write_metadata());
  if (marked_dirty_) {
    CELLA_TRY(set_incompatible_bits(header_.incompatible_features & ~kIncompatDirty));
    marked_dirty_ = false;
  }
  return ok();
}

Result<void> Qcow2Image::reload_metadata() {
  refcounts_.cache().clear();
  clusters_.cache().clear();
  refcounts_.forget_compressed_cursor();
  decompressed_entry_ = 0;
  CELLA_TRY_ASSIGN(file_size, file_.size());
  CELLA_TRY_ASSIGN(first, read_first_cluster(file_));
  CELLA_TRY_ASSIGN(header, parse_header(first, file_size));
  header_ = std::move(header);
  return load_metadata();
}

}  // namespace cella::block::qcow2
