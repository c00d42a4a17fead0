// Growing the refcount structure: new refcount blocks, and moving the refcount table to a
// larger one ("== Host cluster management ==").
#include <algorithm>

#include "base/bits.h"
#include "block/qcow2/refcounts.h"

namespace cella::block::qcow2 {

Result<void> Refcounts::create_block(uint64_t block_index) {
  if (block_index >= table_.size()) {
    CELLA_TRY(grow_table(block_index + 1));
    if (table_[block_index] != 0) return ok();
  }
  // Place the block inside the range it describes when possible, so that it counts itself.
  const uint64_t range_first = block_index * layout_.refcount_block_entries;
  uint64_t block_cluster = range_first;
  while (block_cluster < range_first + layout_.refcount_block_entries &&
         (reserved(block_cluster) || metadata_.find(block_cluster, 1))) {
    ++block_cluster;
  }
  const bool self_described = block_cluster < range_first + layout_.refcount_block_entries;
  if (!self_described) {
    CELLA_TRY_ASSIGN(elsewhere, find_free_run(1));
    block_cluster = elsewhere;
  }
  Reservation reservation(reserved_, block_cluster, 1);
  if (!self_described) CELLA_TRY(change(block_cluster, 1));
  {
    CELLA_TRY_ASSIGN(handle, cache_.create(block_cluster << layout_.cluster_bits));
    if (self_described) {
      set_refcount_entry(handle.bytes().data(), block_cluster - range_first, layout_.refcount_order,
                         1);
    }
  }
  // The block (and every refcount it depends on) is durable before the table points at it.
  CELLA_TRY(cache_.write_dirty());
  CELLA_TRY(storage_.barrier());
  uint8_t entry[8];
  store_be<uint64_t>(entry, block_cluster << layout_.cluster_bits);
  CELLA_TRY(storage_.write(table_offset_ + block_index * 8, entry));
  table_[block_index] = block_cluster << layout_.cluster_bits;
  metadata_.add(block_cluster, 1, MetadataKind::kRefcountBlock);
  return ok();
}

Result<void> Refcounts::grow_table(uint64_t min_entries) {
  const uint64_t entries_per_cluster = layout_.cluster_size / 8;
  uint64_t entries = std::max<uint64_t>(min_entries, table_.size() * 2);
  uint64_t table_clusters = 0;
  uint64_t start = 0;
  std::vector<uint64_t> new_blocks;  // block indices that need a new block
  for (uint64_t extra = 0;;) {
    table_clusters = (entries + entries_per_cluster - 1) / entries_per_cluster;
    if (table_clusters * layout_.cluster_size > kMaxRefcountTableBytes) {
      return make_error(
          "the refcount table would exceed {} MiB: the image file is too large for "
          "{}-byte clusters",
          kMaxRefcountTableBytes >> 20, layout_.cluster_size);
    }
    CELLA_TRY_ASSIGN(found, find_free_run(table_clusters + extra));
    start = found;
    // Ranges touched by the new table and blocks that have no block yet.
    new_blocks.clear();
    const uint64_t end = start + table_clusters + extra;
    uint64_t needed_entries = entries;
    for (uint64_t b = start / layout_.refcount_block_entries;
         b * layout_.refcount_block_entries < end; ++b) {
      if (b >= table_.size() || table_[b] == 0) new_blocks.push_back(b);
      needed_entries = std::max(needed_entries, b + 1);
    }
    if (needed_entries > entries) {
      entries = needed_entries;
      continue;
    }
    if (new_blocks.size() <= extra) break;
    extra = new_blocks.size();
  }
  entries = table_clusters * entries_per_cluster;
  const uint64_t total = table_clusters + new_blocks.size();
  Reservation reservation(reserved_, start, total);

  // New refcount blocks count the new table and blocks that fall in their ranges; existing
  // blocks get their increments through the cache.
  std::vector<uint64_t> table(entries, 0);
  std::copy(table_.begin(), table_.end(), table.begin());
  std::vector<std::vector<uint8_t>> blocks(new_blocks.size(),
                                           std::vector<uint8_t>(layout_.cluster_size, 0));
  for (size_t i = 0; i < new_blocks.size(); ++i) {
    table[new_blocks[i]] = (start + table_clusters + i) << layout_.cluster_bits;
  }
  for (uint64_t cluster = start; cluster < start + total; ++cluster) {
    const uint64_t b = cluster / layout_.refcount_block_entries;
    auto it = std::find(new_blocks.begin(), new_blocks.end(), b);
    if (it == new_blocks.end()) {
      CELLA_TRY(change(cluster, 1));
    } else {
      set_refcount_entry(blocks[it - new_blocks.begin()].data(),
                         cluster % layout_.refcount_block_entries, layout_.refcount_order, 1);
    }
  }
  for (size_t i = 0; i < new_blocks.size(); ++i) {
    CELLA_TRY(storage_.write(table[new_blocks[i]], blocks[i]));
  }
  std::vector<uint8_t> raw(table_clusters * layout_.cluster_size, 0);
  for (uint64_t i = 0; i < entries; ++i) store_be<uint64_t>(&raw[i * 8], table[i]);
  CELLA_TRY(storage_.write(start << layout_.cluster_bits, raw));
  CELLA_TRY(cache_.write_dirty());
  CELLA_TRY(storage_.barrier());
  // "== Header ==" bytes 48-59: refcount_table_offset and refcount_table_clusters, one write.
  uint8_t header[12];
  store_be<uint64_t>(&header[0], start << layout_.cluster_bits);
  store_be<uint32_t>(&header[8], static_cast<uint32_t>(table_clusters));
  CELLA_TRY(storage_.write(kOffRefcountTableOffset, header));
  CELLA_TRY(storage_.barrier());

  const uint64_t old_first = layout_.cluster_index(table_offset_);
  const uint64_t old_count = table_clusters_;
  metadata_.remove(old_first);
  metadata_.add(start, table_clusters, MetadataKind::kRefcountTable);
  for (size_t i = 0; i < new_blocks.size(); ++i) {
    metadata_.add(start + table_clusters + i, 1, MetadataKind::kRefcountBlock);
  }
  table_ = std::move(table);
  table_offset_ = start << layout_.cluster_bits;
  table_clusters_ = static_cast<uint32_t>(table_clusters);
  header_.refcount_table_offset = table_offset_;
  header_.refcount_table_clusters = table_clusters_;
  // The header no longer points at the old table: its clusters are free.
  return release(old_first << layout_.cluster_bits, old_count << layout_.cluster_bits);
}

}  // namespace cella::block::qcow2
