#include <algorithm>

#include "base/bits.h"
#include "block/qcow2/checker.h"

namespace cella::block::qcow2 {

Result<void> Checker::compare_refcounts() {
  const uint64_t per_block = layout_.refcount_block_entries;
  end_cluster_ = refs_.end();
  // Referenced clusters that no refcount block describes: only a rebuild can record them.
  refs_.for_each([&](uint64_t c, uint64_t count) {
    const uint64_t block = c / per_block;
    if (block < refcount_table_.size() && refcount_table_[block] != 0) return;
    problem(false, "cluster {} (host offset {:#x}) has {} references but no refcount block", c,
            c << layout_.cluster_bits, count);
    rebuild_needed_ = true;
  });
  const bool fix_in_place = repair_ && !rebuild_needed_;
  std::vector<uint8_t> block(layout_.cluster_size);
  for (uint64_t b = 0; b < refcount_table_.size(); ++b) {
    if (refcount_table_[b] == 0) continue;
    CELLA_TRY(storage_.read(refcount_table_[b], block));
    bool modified = false;
    for (uint64_t i = 0; i < per_block; ++i) {
      const uint64_t c = b * per_block + i;
      const uint64_t stored = get_refcount_entry(block.data(), i, layout_.refcount_order);
      const uint64_t counted = refs(c);
      if (stored != 0 || counted != 0) end_cluster_ = std::max(end_cluster_, c + 1);
      if (stored == counted) continue;
      if (counted > layout_.max_refcount) {
        problem(false,
                "cluster {} (host offset {:#x}) has {} references, more than {}-bit "
                "refcounts can hold",
                c, c << layout_.cluster_bits, counted, layout_.refcount_bits);
        continue;
      }
      const bool leak = stored > counted;
      if (leak) {
        problem(true, "leaked cluster {} (host offset {:#x}): refcount {}, {} references", c,
                c << layout_.cluster_bits, stored, counted);
      } else {
        problem(false, "cluster {} (host offset {:#x}): refcount {} but {} references", c,
                c << layout_.cluster_bits, stored, counted);
      }
      if (fix_in_place) {
        set_refcount_entry(block.data(), i, layout_.refcount_order, counted);
        modified = true;
      }
    }
    if (modified) CELLA_TRY(storage_.write(refcount_table_[b], block));
  }
  if (repair_ && rebuild_needed_) CELLA_TRY(rebuild_refcounts());
  return ok();
}

Result<void> Checker::rebuild_refcounts() {
  // The old table and blocks are dropped; the new structure goes after the end of the file:
  // a table of `table` clusters followed by `blocks` blocks describing everything before them
  // and themselves.
  for (const Range& range : refcount_structure_) remove_refs(range.offset, range.bytes);
  const uint64_t per_block = layout_.refcount_block_entries;
  const uint64_t start = std::max(file_clusters_, refs_.end());
  uint64_t blocks = 1;
  uint64_t table = 1;
  for (;;) {
    const uint64_t total = start + table + blocks;
    const uint64_t need_blocks = (total + per_block - 1) / per_block;
    const uint64_t need_table = layout_.clusters_for(need_blocks * 8);
    if (need_blocks == blocks && need_table == table) break;
    blocks = need_blocks;
    table = need_table;
  }
  if (table * layout_.cluster_size > kMaxRefcountTableBytes) {
    return make_error("a rebuilt refcount table would exceed {} MiB", kMaxRefcountTableBytes >> 20);
  }
  const uint64_t end = start + table + blocks;
  std::vector<uint8_t> block(layout_.cluster_size);
  std::vector<uint8_t> raw_table(table * layout_.cluster_size, 0);
  for (uint64_t b = 0; b < blocks; ++b) {
    std::fill(block.begin(), block.end(), 0);
    for (uint64_t i = 0; i < per_block; ++i) {
      const uint64_t c = b * per_block + i;
      const uint64_t value = c < start ? std::min(refs(c), layout_.max_refcount) : (c < end);
      if (value != 0) set_refcount_entry(block.data(), i, layout_.refcount_order, value);
    }
    const uint64_t at = (start + table + b) << layout_.cluster_bits;
    CELLA_TRY(storage_.write(at, block));
    store_be<uint64_t>(&raw_table[b * 8], at);
  }
  CELLA_TRY(storage_.write(start << layout_.cluster_bits, raw_table));
  CELLA_TRY(storage_.barrier());
  // "== Header ==" bytes 48-59 in one write: the image switches to the new structure.
  uint8_t header[12];
  store_be<uint64_t>(&header[0], start << layout_.cluster_bits);
  store_be<uint32_t>(&header[8], static_cast<uint32_t>(table));
  CELLA_TRY(storage_.write(kOffRefcountTableOffset, header));
  CELLA_TRY(storage_.barrier());
  for (const Range& range : refcount_structure_) {
    // The old structure is free now; give its space back unless something else uses it.
    const uint64_t first = layout_.cluster_index(range.offset);
    for (uint64_t c = first; c < first + layout_.clusters_for(range.bytes); ++c) {
      if (refs(c) == 0)
        CELLA_TRY(storage_.file().punch_hole(c << layout_.cluster_bits, layout_.cluster_size));
    }
  }
  report_.messages.push_back(fmt::format("rebuilt the refcount structure ({} blocks at {:#x})",
                                         blocks, start << layout_.cluster_bits));
  return ok();
}

Result<void> Checker::check_copied_flags() {
  if (active_l2_.empty()) return ok();
  std::vector<uint8_t> table(layout_.cluster_size);
  for (const auto& [index, l2] : active_l2_) {
    uint8_t raw_l1[8];
    CELLA_TRY(storage_.read(header_.l1_table_offset + index * 8, raw_l1));
    const uint64_t l1_entry = load_be<uint64_t>(raw_l1);
    if ((l1_entry & kL1OffsetMask) != l2) continue;  // cleared by the scan
    // "L1 table entry" / "L2 table entry" bit 63: set exactly when the refcount is one.
    const bool want = refs(layout_.cluster_index(l2)) == 1;
    if (((l1_entry & kCopiedFlag) != 0) != want) {
      problem(false, "L1 entry {}: the copied flag is {} but the L2 table's refcount is {}", index,
              want ? "clear" : "set", refs(layout_.cluster_index(l2)));
      if (repair_) {
        CELLA_TRY(write_entry(header_.l1_table_offset, index,
                              want ? l1_entry | kCopiedFlag : l1_entry & ~kCopiedFlag));
      }
    }
    CELLA_TRY(storage_.read(l2, table));
    bool modified = false;
    for (uint64_t j = 0; j < layout_.l2_entries; ++j) {
      L2Slot slot = read_slot(table, j);
      const ClusterEntry e = decode_l2_entry(layout_, slot);
      if (e.invalid || e.kind == ClusterKind::kUnallocated) continue;
      const bool copied_wanted =
          e.kind != ClusterKind::kCompressed && refs(layout_.cluster_index(e.host_offset)) == 1;
      if (e.copied == copied_wanted) continue;
      problem(false,
              "L2 entry for guest offset {:#x}: the copied flag is {} but the refcount is {}",
              (index * layout_.l2_entries + j) << layout_.cluster_bits,
              copied_wanted ? "clear" : "set", refs(layout_.cluster_index(e.host_offset)));
      if (repair_) {
        slot.entry = copied_wanted ? slot.entry | kCopiedFlag : slot.entry & ~kCopiedFlag;
        write_slot(table, j, slot);
        modified = true;
      }
    }
    if (modified) CELLA_TRY(storage_.write(l2, table));
  }
  return ok();
}

namespace {

Result<CheckReport> run_checker(const CheckInput& input, bool repair) {
  Checker checker(input, repair);
  CELLA_TRY(checker.scan());
  CELLA_TRY(checker.compare_refcounts());
  CELLA_TRY(checker.check_copied_flags());
  CheckReport report = checker.report();
  report.total_clusters = input.layout.clusters_for(input.header.size);
  return report;
}

}  // namespace

Result<CheckReport> check_image(const CheckInput& input, bool repair) {
  CELLA_TRY_ASSIGN(first, run_checker(input, repair));
  if (!repair) return first;
  CELLA_TRY(input.storage.barrier());
  // The repair may have moved the refcount table: check again against the header on disk.
  CELLA_TRY_ASSIGN(file_size, input.storage.file().size());
  std::vector<uint8_t> head(std::min<uint64_t>(file_size, input.layout.cluster_size));
  CELLA_TRY(input.storage.read(0, head));
  CELLA_TRY_ASSIGN(header, parse_header(head, file_size));
  CheckInput again{input.storage, header, input.layout, input.snapshots,
                   input.snapshot_table_bytes};
  CELLA_TRY_ASSIGN(after, run_checker(again, false));
  CheckReport report = first;
  report.corruptions = after.corruptions;
  report.leaks = after.leaks;
  report.corruptions_fixed = first.corruptions - std::min(first.corruptions, after.corruptions);
  report.leaks_fixed = first.leaks - std::min(first.leaks, after.leaks);
  report.allocated_clusters = after.allocated_clusters;
  report.fragmented_clusters = after.fragmented_clusters;
  report.compressed_clusters = after.compressed_clusters;
  report.image_end_offset = after.image_end_offset;
  for (const std::string& message : after.messages) {
    report.messages.push_back("after repair: " + message);
  }
  return report;
}

}  // namespace cella::block::qcow2
