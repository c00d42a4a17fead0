#include "block/qcow2/refcounts.h"

#include <algorithm>
#include <set>

#include "base/bits.h"

namespace cella::block::qcow2 {

namespace {

// A guard that keeps a cluster range out of other allocations while it is being allocated.
class Reservation {
 public:
  Reservation(std::vector<std::pair<uint64_t, uint64_t>>& list, uint64_t first, uint64_t count)
      : list_(list) {
    list_.emplace_back(first, count);
  }
  ~Reservation() { list_.pop_back(); }
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;

 private:
  std::vector<std::pair<uint64_t, uint64_t>>& list_;
};

}  // namespace

Refcounts::Refcounts(Storage& storage, const Layout& layout, MetadataMap& metadata, Header& header,
                     size_t cache_tables)
    : storage_(storage),
      layout_(layout),
      metadata_(metadata),
      header_(header),
      cache_(storage, layout.cluster_size, cache_tables) {}

Result<void> Refcounts::load(uint64_t table_offset, uint32_t table_clusters,
                             std::vector<std::string>& problems) {
  table_offset_ = table_offset;
  table_clusters_ = table_clusters;
  std::vector<uint8_t> raw(uint64_t{table_clusters} * layout_.cluster_size);
  CELLA_TRY(storage_.read(table_offset, raw));
  table_.assign(raw.size() / 8, 0);
  if (auto clash = metadata_.add(layout_.cluster_index(table_offset), table_clusters,
                                 MetadataKind::kRefcountTable)) {
    problems.push_back("the refcount table overlaps " +
                       describe_region(*clash, layout_.cluster_size));
  }
  CELLA_TRY_ASSIGN(file_size, storage_.file().size());
  for (size_t i = 0; i < table_.size(); ++i) {
    const uint64_t entry = load_be<uint64_t>(&raw[i * 8]);
    if (entry == 0) continue;
    // "Refcount table entry": bits 0-8 reserved, the block offset cluster-aligned.
    if ((entry & (layout_.cluster_size - 1)) != 0 || entry >= kMaxHostOffset ||
        entry >= file_size) {
      problems.push_back(
          fmt::format("refcount table entry {} ({:#x}) is not a cluster inside the "
                      "file",
                      i, entry));
      continue;
    }
    if (auto clash = metadata_.add(layout_.cluster_index(entry), 1, MetadataKind::kRefcountBlock)) {
      problems.push_back(fmt::format("refcount block {} at {:#x} overlaps {}", i, entry,
                                     describe_region(*clash, layout_.cluster_size)));
      continue;
    }
    table_[i] = entry;
  }
  return ok();
}

Result<uint64_t> Refcounts::get(uint64_t cluster) {
  const uint64_t block = cluster / layout_.refcount_block_entries;
  if (block >= table_.size() || table_[block] == 0) return 0;
  CELLA_TRY_ASSIGN(handle, cache_.load(table_[block]));
  return get_refcount_entry(handle.bytes().data(), cluster % layout_.refcount_block_entries,
                            layout_.refcount_order);
}

Result<uint64_t> Refcounts::change(uint64_t cluster, int64_t delta) {
  const uint64_t block = cluster / layout_.refcount_block_entries;
  if (block >= table_.size() || table_[block] == 0) {
    if (delta < 0) {
      return make_error("cluster {} (host offset {:#x}) is already free; its refcount cannot drop",
                        cluster, cluster * layout_.cluster_size);
    }
    CELLA_TRY(create_block(block));
  }
  CELLA_TRY_ASSIGN(handle, cache_.load(table_[block]));
  const uint64_t index = cluster % layout_.refcount_block_entries;
  const uint64_t value = get_refcount_entry(handle.bytes().data(), index, layout_.refcount_order);
  uint64_t updated = value;
  if (delta < 0) {
    const uint64_t down = static_cast<uint64_t>(-delta);
    if (value < down) {
      return make_error(
          "refcount of cluster {} (host offset {:#x}) is {}, below the {} references "
          "being dropped",
          cluster, cluster * layout_.cluster_size, value, down);
    }
    updated = value - down;
  } else {
    const uint64_t up = static_cast<uint64_t>(delta);
    if (layout_.max_refcount - value < up) {
      return make_error("refcount of cluster {} would exceed {} ({}-bit refcounts)", cluster,
                        layout_.max_refcount, layout_.refcount_bits);
    }
    updated = value + up;
  }
  set_refcount_entry(handle.bytes().data(), index, layout_.refcount_order, updated);
  handle.mark_dirty();
  if (updated == 0) {
    free_hint_ = std::min(free_hint_, cluster);
    if (compressed_cursor_ != 0 && layout_.cluster_index(compressed_cursor_) == cluster) {
      compressed_cursor_ = 0;
    }
  }
  return updated;
}

bool Refcounts::reserved(uint64_t cluster) const {
  for (const auto& [first, count] : reserved_) {
    if (cluster >= first && cluster - first < count) return true;
  }
  return false;
}

Result<uint64_t> Refcounts::find_free_run(uint64_t count) {
  const uint64_t limit = kMaxHostOffset >> layout_.cluster_bits;
  uint64_t start = free_hint_;
  uint64_t cluster = free_hint_;
  while (cluster - start < count) {
    if (cluster >= limit) return make_error("the image file is full (host offsets reach 2^56)");
    const uint64_t block = cluster / layout_.refcount_block_entries;
    const uint64_t block_end = (block + 1) * layout_.refcount_block_entries;
    if (block >= table_.size() || table_[block] == 0) {
      // No block: every cluster of its range is free, except reserved ones.
      for (; cluster < block_end && cluster - start < count; ++cluster) {
        if (reserved(cluster)) start = cluster + 1;
      }
      continue;
    }
    CELLA_TRY_ASSIGN(handle, cache_.load(table_[block]));
    const uint8_t* bytes = handle.bytes().data();
    for (; cluster < block_end && cluster - start < count; ++cluster) {
      const uint64_t index = cluster % layout_.refcount_block_entries;
      const bool used = get_refcount_entry(bytes, index, layout_.refcount_order) != 0;
      if (used && cluster == free_hint_) ++free_hint_;
      if (used || reserved(cluster)) start = cluster + 1;
    }
  }
  return start;
}

Result<uint64_t> Refcounts::allocate(uint64_t count) {
  if (count == 0) return make_error("allocation of zero clusters");
  CELLA_TRY_ASSIGN(start, find_free_run(count));
  if (auto clash = metadata_.find(start, count)) {
    return make_error(
        "refcounts say clusters {}..{} are free but {} lives there: the refcounts are "
        "corrupt",
        start, start + count - 1, describe_region(*clash, layout_.cluster_size));
  }
  {
    Reservation reservation(reserved_, start, count);
    for (uint64_t i = 0; i < count; ++i) CELLA_TRY(change(start + i, 1));
  }
  if (start == free_hint_) free_hint_ = start + count;
  return start << layout_.cluster_bits;
}

Result<uint64_t> Refcounts::allocate_bytes(uint64_t bytes) {
  if (bytes == 0 || bytes > layout_.cluster_size) {
    return make_error("compressed allocation of {} bytes", bytes);
  }
  if (compressed_cursor_ != 0) {
    const uint64_t cluster = layout_.cluster_index(compressed_cursor_);
    const uint64_t room = ((cluster + 1) << layout_.cluster_bits) - compressed_cursor_;
    CELLA_TRY_ASSIGN(refcount, get(cluster));
    if (bytes <= room && refcount > 0 && refcount < layout_.max_refcount) {
      CELLA_TRY(change(cluster, 1));
      const uint64_t offset = compressed_cursor_;
      compressed_cursor_ = bytes == room ? 0 : compressed_cursor_ + bytes;
      return offset;
    }
  }
  CELLA_TRY_ASSIGN(offset, allocate(1));
  compressed_cursor_ = bytes == layout_.cluster_size ? 0 : offset + bytes;
  return offset;
}

Result<void> Refcounts::punch(const std::vector<uint64_t>& clusters) {
  // Merge runs of freed clusters into one hole each.
  size_t i = 0;
  while (i < clusters.size()) {
    size_t j = i + 1;
    while (j < clusters.size() && clusters[j] == clusters[j - 1] + 1) ++j;
    CELLA_TRY(storage_.file().punch_hole(clusters[i] << layout_.cluster_bits,
                                         (j - i) << layout_.cluster_bits));
    i = j;
  }
  return ok();
}

Result<void> Refcounts::release(uint64_t offset, uint64_t bytes) {
  if (bytes == 0) return ok();
  const uint64_t first = layout_.cluster_index(offset);
  const uint64_t last = layout_.cluster_index(offset + bytes - 1);
  std::vector<uint64_t> freed;
  for (uint64_t cluster = first; cluster <= last; ++cluster) {
    CELLA_TRY_ASSIGN(left, change(cluster, -1));
    if (left == 0) freed.push_back(cluster);
  }
  return punch(freed);
}

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
