#include <algorithm>

#include "base/bits.h"
#include "block/qcow2/bitmaps.h"
#include "block/qcow2/checker.h"

namespace cella::block::qcow2 {

Checker::Checker(const CheckInput& input, bool repair)
    : storage_(input.storage),
      header_(input.header),
      layout_(input.layout),
      snapshots_(input.snapshots),
      snapshot_table_bytes_(input.snapshot_table_bytes),
      repair_(repair) {}

uint64_t Checker::refs(uint64_t cluster) const {
  return refs_.get(cluster);
}

void Checker::add_refs(uint64_t offset, uint64_t bytes) {
  if (bytes == 0) return;
  const uint64_t last = layout_.cluster_index(offset + bytes - 1);
  for (uint64_t c = layout_.cluster_index(offset); c <= last; ++c) refs_.add(c);
}

void Checker::remove_refs(uint64_t offset, uint64_t bytes) {
  if (bytes == 0) return;
  const uint64_t last = layout_.cluster_index(offset + bytes - 1);
  for (uint64_t c = layout_.cluster_index(offset); c <= last; ++c) refs_.remove(c);
}

bool Checker::inside_file(uint64_t offset, uint64_t bytes) const {
  return offset < kMaxHostOffset && offset < file_size_ && bytes <= file_size_ - offset;
}

L2Slot Checker::read_slot(std::span<const uint8_t> table, uint64_t index) const {
  const uint8_t* p = table.data() + index * layout_.l2_entry_bytes;
  return {load_be<uint64_t>(p), layout_.extended_l2 ? load_be<uint64_t>(p + 8) : 0};
}

void Checker::write_slot(std::span<uint8_t> table, uint64_t index, L2Slot slot) const {
  uint8_t* p = table.data() + index * layout_.l2_entry_bytes;
  store_be<uint64_t>(p, slot.entry);
  if (layout_.extended_l2) store_be<uint64_t>(p + 8, slot.bitmap);
}

Result<void> Checker::write_entry(uint64_t table_offset, uint64_t index, uint64_t value) {
  uint8_t raw[8];
  store_be<uint64_t>(raw, value);
  return storage_.write(table_offset + index * 8, raw);
}

Result<void> Checker::register_metadata(uint64_t offset, uint64_t bytes, MetadataKind kind,
                                        const std::string& what) {
  if (!inside_file(offset, bytes) || offset % layout_.cluster_size != 0) {
    problem(false, "{} at {:#x} ({} bytes) is not cluster-aligned inside the file", what, offset,
            bytes);
    return make_error("invalid");
  }
  add_refs(offset, bytes);
  if (auto clash =
          metadata_.add(layout_.cluster_index(offset), layout_.clusters_for(bytes), kind)) {
    problem(false, "{} at {:#x} overlaps {}", what, offset,
            describe_region(*clash, layout_.cluster_size));
    return make_error("overlap");
  }
  return ok();
}

Result<void> Checker::scan() {
  CELLA_TRY_ASSIGN(file_size, storage_.file().size());
  file_size_ = file_size;
  file_clusters_ = layout_.clusters_for(file_size_);

  (void)register_metadata(0, layout_.cluster_size, MetadataKind::kHeader, "the header");
  const uint64_t table_bytes = uint64_t{header_.refcount_table_clusters} * layout_.cluster_size;
  if (register_metadata(header_.refcount_table_offset, table_bytes, MetadataKind::kRefcountTable,
                        "the refcount table")) {
    refcount_structure_.push_back({header_.refcount_table_offset, table_bytes});
  } else {
    rebuild_needed_ = true;
  }
  if (header_.l1_size > 0) {
    (void)register_metadata(header_.l1_table_offset, uint64_t{header_.l1_size} * 8,
                            MetadataKind::kL1Table, "the L1 table");
  }
  if (snapshot_table_bytes_ > 0) {
    (void)register_metadata(header_.snapshots_offset, snapshot_table_bytes_,
                            MetadataKind::kSnapshotTable, "the snapshot table");
  }
  for (const Snapshot& s : snapshots_) {
    if (s.l1_size > 0) {
      (void)register_metadata(s.l1_table_offset, uint64_t{s.l1_size} * 8,
                              MetadataKind::kSnapshotL1Table,
                              fmt::format("the L1 table of snapshot '{}'", s.id));
    }
  }
  CELLA_TRY(scan_refcount_table());
  CELLA_TRY(scan_l1(header_.l1_table_offset, header_.l1_size, true, "active state"));
  for (const Snapshot& s : snapshots_) {
    if (s.l1_size == 0 || !inside_file(s.l1_table_offset, uint64_t{s.l1_size} * 8)) continue;
    CELLA_TRY(scan_l1(s.l1_table_offset, s.l1_size, false, fmt::format("snapshot '{}'", s.id)));
  }
  return scan_bitmaps();
}

Result<void> Checker::scan_refcount_table() {
  const uint64_t table_bytes = uint64_t{header_.refcount_table_clusters} * layout_.cluster_size;
  refcount_table_.assign(table_bytes / 8, 0);
  if (!inside_file(header_.refcount_table_offset, table_bytes)) return ok();
  std::vector<uint8_t> raw(table_bytes);
  CELLA_TRY(storage_.read(header_.refcount_table_offset, raw));
  for (size_t i = 0; i < refcount_table_.size(); ++i) {
    const uint64_t entry = load_be<uint64_t>(&raw[i * 8]);
    if (entry == 0) continue;
    if ((entry & kRefcountTableReservedMask) != 0 || !inside_file(entry, layout_.cluster_size)) {
      problem(false, "refcount table entry {} ({:#x}) is not a cluster inside the file", i, entry);
      rebuild_needed_ = true;
      continue;
    }
    if (!register_metadata(entry, layout_.cluster_size, MetadataKind::kRefcountBlock,
                           fmt::format("refcount block {}", i))) {
      rebuild_needed_ = true;
      continue;
    }
    refcount_table_[i] = entry;
    refcount_structure_.push_back({entry, layout_.cluster_size});
  }
  return ok();
}

Result<void> Checker::scan_l1(uint64_t offset, uint32_t entries, bool active,
                              const std::string& what) {
  if (entries == 0 || !inside_file(offset, uint64_t{entries} * 8)) return ok();
  std::vector<uint8_t> raw(uint64_t{entries} * 8);
  CELLA_TRY(storage_.read(offset, raw));
  std::vector<std::pair<uint64_t, uint64_t>> tables;  // (L1 index, L2 offset)
  for (uint64_t i = 0; i < entries; ++i) {
    const uint64_t entry = load_be<uint64_t>(&raw[i * 8]);
    const uint64_t l2 = entry & kL1OffsetMask;
    if (l2 == 0) continue;
    bool valid = (entry & kL1ReservedMask) == 0 && l2 % layout_.cluster_size == 0 &&
                 inside_file(l2, layout_.cluster_size);
    if (!valid) {
      problem(false, "{}: L1 entry {} ({:#x}) does not point at an L2 table inside the file", what,
              i, entry);
    } else if (active) {
      valid = register_metadata(l2, layout_.cluster_size, MetadataKind::kL2Table,
                                fmt::format("{}: the L2 table of L1 entry {}", what, i))
                  .ok();
      if (!valid) remove_refs(l2, layout_.cluster_size);
    } else {
      add_refs(l2, layout_.cluster_size);
    }
    if (!valid) {
      // The table cannot be read safely: drop it (its guest clusters read as unallocated).
      if (repair_ && active) CELLA_TRY(write_entry(offset, i, 0));
      continue;
    }
    tables.emplace_back(i, l2);
    if (active) active_l2_.emplace_back(i, l2);
  }
  for (const auto& [index, l2] : tables) {
    CELLA_TRY(scan_l2(l2, index * layout_.l2_entries, active, what));
  }
  return ok();
}

Result<void> Checker::scan_l2(uint64_t offset, uint64_t first_guest_cluster, bool active,
                              const std::string& what) {
  std::vector<uint8_t> table(layout_.cluster_size);
  CELLA_TRY(storage_.read(offset, table));
  bool modified = false;
  next_contiguous_ = 0;  // qemu-img check counts fragmentation within each L2 table
  // A cleared entry reads as zeros in version 3, as unallocated in version 2.
  const L2Slot cleared =
      encode_unallocated(layout_, layout_.version >= 3 ? layout_.all_subclusters() : 0);
  for (uint64_t j = 0; j < layout_.l2_entries; ++j) {
    const L2Slot slot = read_slot(table, j);
    if (slot == L2Slot{}) continue;
    const ClusterEntry e = decode_l2_entry(layout_, slot);
    const uint64_t guest = (first_guest_cluster + j) << layout_.cluster_bits;
    std::string reason;
    uint64_t bytes = layout_.cluster_size;
    if (e.invalid) {
      reason =
          "is invalid (reserved bits, unaligned offset, inconsistent subcluster bits or a "
          "version 3 flag)";
    } else if (e.kind == ClusterKind::kUnallocated) {
      continue;
    } else {
      if (e.kind == ClusterKind::kCompressed) bytes = e.compressed_bytes;
      if (!inside_file(e.host_offset, 1)) {
        reason = fmt::format("points beyond the end of the file ({:#x})", e.host_offset);
      } else if (auto clash = metadata_.find(layout_.cluster_index(e.host_offset),
                                             layout_.cluster_index(e.host_offset + bytes - 1) -
                                                 layout_.cluster_index(e.host_offset) + 1)) {
        reason = "points into " + describe_region(*clash, layout_.cluster_size);
      }
    }
    if (!reason.empty()) {
      problem(false, "{}: L2 entry for guest offset {:#x} ({:#x}) {}", what, guest, slot.entry,
              reason);
      if (repair_ && active) {
        write_slot(table, j, cleared);
        modified = true;
      }
      continue;
    }
    add_refs(e.host_offset, bytes);
    if (!active) continue;
    ++report_.allocated_clusters;
    // Fragmentation, as qemu-img check counts it: a host cluster that does not follow the
    // previous one of the same L2 table; compressed clusters always count (they share sectors).
    if (e.kind == ClusterKind::kCompressed) {
      ++report_.compressed_clusters;
      ++report_.fragmented_clusters;
    } else {
      if (next_contiguous_ != 0 && e.host_offset != next_contiguous_) {
        ++report_.fragmented_clusters;
      }
      next_contiguous_ = e.host_offset + layout_.cluster_size;
    }
  }
  if (modified) CELLA_TRY(storage_.write(offset, table));
  return ok();
}

Result<void> Checker::scan_bitmaps() {
  // "Bit 0: Bitmaps extension bit": without it the bitmaps are inconsistent and their clusters
  // count as unreferenced (leaks), as qemu counts them.
  if (!header_.bitmaps || (header_.autoclear_features & kAutoclearBitmaps) == 0) return ok();
  std::vector<std::string> problems;
  CELLA_TRY_ASSIGN(ranges,
                   bitmap_ranges(storage_, *header_.bitmaps, layout_, file_size_, problems));
  for (const std::string& p : problems) problem(false, "{}", p);
  for (const HostRange& range : ranges) add_refs(range.offset, range.bytes);
  return ok();
}

}  // namespace cella::block::qcow2
