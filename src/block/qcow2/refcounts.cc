#include "block/qcow2/refcounts.h"

#include <algorithm>

#include "base/bits.h"

namespace cella::block::qcow2 {

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

}  // namespace cella::block::qcow2
