#include "block/qcow2/cluster_map.h"

#include <algorithm>

#include "base/bits.h"

namespace cella::block::qcow2 {

ClusterMap::ClusterMap(Storage& storage, const Layout& layout, MetadataMap& metadata,
                       Refcounts& refcounts, Header& header, size_t cache_tables)
    : storage_(storage),
      layout_(layout),
      metadata_(metadata),
      refcounts_(refcounts),
      header_(header),
      cache_(storage, layout.cluster_size, cache_tables) {
  // An L2 table may point at new data and new clusters only once both are durable.
  cache_.set_before_write([this]() -> Result<void> {
    CELLA_TRY(refcounts_.write_dirty());
    return storage_.barrier();
  });
}

Result<void> ClusterMap::load(uint64_t l1_offset, uint32_t l1_size,
                              std::vector<std::string>& problems) {
  l1_offset_ = l1_offset;
  l1_.assign(l1_size, 0);
  if (l1_size == 0) return ok();
  std::vector<uint8_t> raw(uint64_t{l1_size} * 8);
  CELLA_TRY(storage_.read(l1_offset, raw));
  if (auto clash = metadata_.add(layout_.cluster_index(l1_offset), layout_.clusters_for(raw.size()),
                                 MetadataKind::kL1Table)) {
    problems.push_back("the L1 table overlaps " + describe_region(*clash, layout_.cluster_size));
  }
  CELLA_TRY_ASSIGN(file_size, storage_.file().size());
  for (uint64_t i = 0; i < l1_size; ++i) {
    const uint64_t entry = load_be<uint64_t>(&raw[i * 8]);
    l1_[i] = entry;
    const uint64_t offset = entry & kL1OffsetMask;
    if (offset == 0) continue;
    if ((entry & kL1ReservedMask) != 0 || offset % layout_.cluster_size != 0 ||
        offset >= file_size) {
      problems.push_back(
          fmt::format("L1 entry {} ({:#x}) is not an L2 table inside the file", i, entry));
      continue;
    }
    if (auto clash = metadata_.add(layout_.cluster_index(offset), 1, MetadataKind::kL2Table)) {
      problems.push_back(fmt::format("the L2 table of L1 entry {} at {:#x} overlaps {}", i, offset,
                                     describe_region(*clash, layout_.cluster_size)));
    }
  }
  return ok();
}

Result<TableCache::Handle> ClusterMap::load_table(uint64_t l1_index) {
  const uint64_t entry = l1_[l1_index];
  const uint64_t offset = entry & kL1OffsetMask;
  const auto region = metadata_.find(layout_.cluster_index(offset), 1);
  if ((entry & kL1ReservedMask) != 0 || !region || region->kind != MetadataKind::kL2Table ||
      region->first != layout_.cluster_index(offset)) {
    return make_error(
        "L1 entry {} ({:#x}) does not point at a valid L2 table{}", l1_index, entry,
        region ? " (it overlaps " + describe_region(*region, layout_.cluster_size) + ")" : "");
  }
  return cache_.load(offset);
}

L2Slot ClusterMap::get(const TableCache::Handle& table, uint64_t index) const {
  if (!layout_.extended_l2) return {table.get64(index), 0};
  return {table.get64(index * 2), table.get64(index * 2 + 1)};
}

void ClusterMap::set(TableCache::Handle& table, uint64_t index, L2Slot slot) const {
  if (!layout_.extended_l2) {
    table.set64(index, slot.entry);
    return;
  }
  table.set64(index * 2, slot.entry);
  table.set64(index * 2 + 1, slot.bitmap);
}

Result<size_t> ClusterMap::entries(uint64_t guest_cluster, size_t count, L2Slot* out) {
  const uint64_t l1_index = guest_cluster / layout_.l2_entries;
  const uint64_t index = guest_cluster % layout_.l2_entries;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(count, layout_.l2_entries - index));
  if (l1_index >= l1_.size() || (l1_[l1_index] & kL1OffsetMask) == 0) {
    std::fill_n(out, n, L2Slot{});
    return n;
  }
  CELLA_TRY_ASSIGN(table, load_table(l1_index));
  for (size_t i = 0; i < n; ++i) out[i] = get(table, index + i);
  return n;
}

Result<L2Slot> ClusterMap::entry(uint64_t guest_cluster) {
  L2Slot slot;
  CELLA_TRY(entries(guest_cluster, 1, &slot));
  return slot;
}

void ClusterMap::set_l1(uint64_t index, uint64_t value) {
  l1_[index] = value;
  if (l1_dirty_end_ == l1_dirty_begin_) {
    l1_dirty_begin_ = index;
    l1_dirty_end_ = index + 1;
  } else {
    l1_dirty_begin_ = std::min(l1_dirty_begin_, index);
    l1_dirty_end_ = std::max(l1_dirty_end_, index + 1);
  }
}

Result<TableCache::Handle> ClusterMap::writable_table(uint64_t guest_cluster,
                                                      std::vector<PendingFree>& frees) {
  const uint64_t l1_index = guest_cluster / layout_.l2_entries;
  if (l1_index >= l1_.size()) {
    return make_error("guest cluster {} is beyond the L1 table ({} entries)", guest_cluster,
                      l1_.size());
  }
  const uint64_t entry = l1_[l1_index];
  const uint64_t offset = entry & kL1OffsetMask;
  if (offset != 0 && (entry & kCopiedFlag) != 0) return load_table(l1_index);
  std::vector<uint8_t> shared;
  if (offset != 0) {
    // "L1 table entry" bit 63 clear: the table may be shared with a snapshot.
    CELLA_TRY_ASSIGN(refcount, refcounts_.get(layout_.cluster_index(offset)));
    if (refcount == 0) {
      return make_error("the L2 table at {:#x} (L1 entry {}) has refcount 0", offset, l1_index);
    }
    if (refcount == 1) {
      set_l1(l1_index, offset | kCopiedFlag);
      return load_table(l1_index);
    }
    CELLA_TRY_ASSIGN(table, load_table(l1_index));
    shared.assign(table.bytes().begin(), table.bytes().end());
  }
  CELLA_TRY_ASSIGN(host, refcounts_.allocate(1));
  if (auto clash = metadata_.add(layout_.cluster_index(host), 1, MetadataKind::kL2Table)) {
    return make_error("new L2 table at {:#x} would overlap {}", host,
                      describe_region(*clash, layout_.cluster_size));
  }
  CELLA_TRY_ASSIGN(table, cache_.create(host));
  if (!shared.empty()) {
    // The copy's clusters stay shared with the snapshot: none of them is "copied" any more.
    std::copy(shared.begin(), shared.end(), table.bytes().begin());
    for (size_t i = 0; i < layout_.l2_entries; ++i) {
      L2Slot slot = get(table, i);
      slot.entry &= ~kCopiedFlag;
      set(table, i, slot);
    }
    metadata_.remove(layout_.cluster_index(offset));
    frees.push_back({offset, layout_.cluster_size});
  }
  set_l1(l1_index, host | kCopiedFlag);
  return table;
}

Result<void> ClusterMap::write_l1() {
  if (l1_dirty_end_ == l1_dirty_begin_) return ok();
  std::vector<uint8_t> raw((l1_dirty_end_ - l1_dirty_begin_) * 8);
  for (uint64_t i = l1_dirty_begin_; i < l1_dirty_end_; ++i) {
    store_be<uint64_t>(&raw[(i - l1_dirty_begin_) * 8], l1_[i]);
  }
  CELLA_TRY(storage_.write(l1_offset_ + l1_dirty_begin_ * 8, raw));
  l1_dirty_begin_ = l1_dirty_end_ = 0;
  return ok();
}

Result<void> ClusterMap::write_dirty() {
  CELLA_TRY(cache_.write_dirty());
  if (l1_dirty_end_ == l1_dirty_begin_) return ok();
  CELLA_TRY(storage_.barrier());
  return write_l1();
}

Result<void> ClusterMap::grow_l1(uint64_t entries) {
  if (entries <= l1_.size()) return ok();
  if (entries * 8 > kMaxL1Bytes) {
    return make_error("an L1 table of {} entries exceeds the {} MiB limit", entries,
                      kMaxL1Bytes >> 20);
  }
  CELLA_TRY(write_dirty());
  const uint64_t clusters = layout_.clusters_for(entries * 8);
  CELLA_TRY_ASSIGN(host, refcounts_.allocate(clusters));
  if (auto clash = metadata_.add(layout_.cluster_index(host), clusters, MetadataKind::kL1Table)) {
    return make_error("new L1 table at {:#x} would overlap {}", host,
                      describe_region(*clash, layout_.cluster_size));
  }
  std::vector<uint8_t> raw(clusters * layout_.cluster_size, 0);
  for (uint64_t i = 0; i < l1_.size(); ++i) store_be<uint64_t>(&raw[i * 8], l1_[i]);
  CELLA_TRY(storage_.write(host, raw));
  CELLA_TRY(refcounts_.write_dirty());
  CELLA_TRY(storage_.barrier());
  // "== Header ==" bytes 36-47: l1_size and l1_table_offset, adjacent, in one write.
  uint8_t header[12];
  store_be<uint32_t>(&header[0], static_cast<uint32_t>(entries));
  store_be<uint64_t>(&header[4], host);
  CELLA_TRY(storage_.write(kOffL1Size, header));
  CELLA_TRY(storage_.barrier());
  const uint64_t old_offset = l1_offset_;
  const uint64_t old_bytes = l1_.size() * 8;
  l1_.resize(entries, 0);
  l1_offset_ = host;
  header_.l1_size = static_cast<uint32_t>(entries);
  header_.l1_table_offset = host;
  if (old_offset != 0 && old_bytes != 0) {
    metadata_.remove(layout_.cluster_index(old_offset));
    CELLA_TRY(refcounts_.release(old_offset, align_up(old_bytes, layout_.cluster_size)));
  }
  return ok();
}

void ClusterMap::drop_l1_entries_from(uint64_t first, std::vector<PendingFree>& frees) {
  for (uint64_t i = first; i < l1_.size(); ++i) {
    const uint64_t offset = l1_[i] & kL1OffsetMask;
    if (offset == 0) continue;
    cache_.forget(offset);
    if (auto region = metadata_.find(layout_.cluster_index(offset), 1);
        region && region->kind == MetadataKind::kL2Table) {
      metadata_.remove(region->first);
    }
    frees.push_back({offset, layout_.cluster_size});
    set_l1(i, 0);
  }
}

}  // namespace cella::block::qcow2
