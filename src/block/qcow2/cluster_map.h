// Guest-to-host mapping ("== Cluster mapping =="): the active L1 table (in memory, written back
// on flush) and L2 tables through a bounded write-back cache.
//
// Ordering: an L2 table reaches the disk only after the data and refcounts it points to are
// durable (the cache's before-write hook), and L1 entries only after the L2 tables they point
// to are durable (write_l1 runs after the L2 tables and a barrier).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "block/qcow2/layout.h"
#include "block/qcow2/metadata_map.h"
#include "block/qcow2/refcounts.h"
#include "block/qcow2/storage.h"
#include "block/qcow2/table_cache.h"

namespace cella::block::qcow2 {

// Host space to release once no on-disk metadata references it any more.
struct PendingFree {
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

class ClusterMap {
 public:
  // `header` mirrors the on-disk header: a new L1 table is recorded there too.
  ClusterMap(Storage& storage, const Layout& layout, MetadataMap& metadata, Refcounts& refcounts,
             Header& header, size_t cache_tables);

  // Reads the active L1 table and registers its L2 tables in the metadata map; invalid or
  // colliding entries are appended to `problems`.
  Result<void> load(uint64_t l1_offset, uint32_t l1_size, std::vector<std::string>& problems);

  // L2 entries for up to `count` guest clusters from `guest_cluster`, stopping at the end of
  // its L2 table; returns how many were filled. Clusters without an L2 table read as empty.
  Result<size_t> entries(uint64_t guest_cluster, size_t count, L2Slot* out);
  Result<L2Slot> entry(uint64_t guest_cluster);
  // Entry `index` of a loaded L2 table, and its replacement (which marks the table dirty).
  L2Slot get(const TableCache::Handle& table, uint64_t index) const;
  void set(TableCache::Handle& table, uint64_t index, L2Slot slot) const;
  // False when no L2 table maps the guest cluster (all of its table's range is unallocated).
  bool has_table(uint64_t guest_cluster) const {
    const uint64_t l1_index = guest_cluster / layout_.l2_entries;
    return l1_index < l1_.size() && (l1_[l1_index] & kL1OffsetMask) != 0;
  }

  // The L2 table of a guest cluster, ready to be modified: allocated when missing, copied when
  // shared with a snapshot (the old table's reference goes to `frees`).
  Result<TableCache::Handle> writable_table(uint64_t guest_cluster,
                                            std::vector<PendingFree>& frees);

  // Writes dirty L2 tables (after the hook's barrier), then dirty L1 entries (after another).
  Result<void> write_dirty();
  bool has_dirty() const { return cache_.has_dirty() || l1_dirty_end_ > l1_dirty_begin_; }

  // Replaces the L1 table by a larger one of `entries` entries (resize). Everything dirty is
  // written first; the header is updated; the old table is freed.
  Result<void> grow_l1(uint64_t entries);
  // Clears L1 entries from `first` on (shrink); their L2 tables go to `frees`.
  void drop_l1_entries_from(uint64_t first, std::vector<PendingFree>& frees);

  const std::vector<uint64_t>& l1() const { return l1_; }
  uint64_t l1_offset() const { return l1_offset_; }
  TableCache& cache() { return cache_; }
  const TableCache& cache() const { return cache_; }

 private:
  Result<TableCache::Handle> load_table(uint64_t l1_index);
  void set_l1(uint64_t index, uint64_t value);
  Result<void> write_l1();

  Storage& storage_;
  const Layout& layout_;
  MetadataMap& metadata_;
  Refcounts& refcounts_;
  Header& header_;
  TableCache cache_;
  std::vector<uint64_t> l1_;
  uint64_t l1_offset_ = 0;
  uint64_t l1_dirty_begin_ = 0;
  uint64_t l1_dirty_end_ = 0;
};

}  // namespace cella::block::qcow2
