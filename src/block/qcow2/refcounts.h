// Host cluster management ("== Host cluster management =="): the refcount table (kept in
// memory), refcount blocks (through a bounded cache), and cluster allocation.
//
// Ordering rules that keep a crashed image consistent (leaks at worst):
//  - increments may reach the disk at any time: a refcount that is too high is only a leak;
//  - decrements are applied by callers only once nothing on disk references the cluster;
//  - a new refcount block is durable before the table entry that points at it, and a new
//    refcount table (with its blocks) is durable before the header points at it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "block/qcow2/layout.h"
#include "block/qcow2/metadata_map.h"
#include "block/qcow2/storage.h"
#include "block/qcow2/table_cache.h"

namespace cella::block::qcow2 {

class Refcounts {
 public:
  // `header` mirrors the on-disk header: a moved refcount table is recorded there too.
  Refcounts(Storage& storage, const Layout& layout, MetadataMap& metadata, Header& header,
            size_t cache_tables);

  // Reads the refcount table and registers the blocks in the metadata map. Structural problems
  // (invalid or colliding entries) are appended to `problems`; they make writes unsafe.
  Result<void> load(uint64_t table_offset, uint32_t table_clusters,
                    std::vector<std::string>& problems);

  Result<uint64_t> get(uint64_t cluster);
  // Adds delta to a cluster's refcount and returns the new value. Errors on overflow and on
  // decrementing a free cluster (a corruption).
  Result<uint64_t> change(uint64_t cluster, int64_t delta);

  // `count` contiguous free clusters, now with refcount 1; returns the host offset.
  Result<uint64_t> allocate(uint64_t count);
  // Space for `bytes` of compressed data, packed after the previous compressed cluster when it
  // fits; every host cluster it touches gains a reference.
  Result<uint64_t> allocate_bytes(uint64_t bytes);
  // Drops one reference from every cluster touched by [offset, offset+bytes); clusters left
  // unreferenced are punched out of the host file.
  Result<void> release(uint64_t offset, uint64_t bytes);

  Result<void> write_dirty() { return cache_.write_dirty(); }
  bool has_dirty() const { return cache_.has_dirty(); }
  TableCache& cache() { return cache_; }
  const std::vector<uint64_t>& table() const { return table_; }
  uint64_t table_offset() const { return table_offset_; }
  uint32_t table_clusters() const { return table_clusters_; }
  void forget_compressed_cursor() { compressed_cursor_ = 0; }

 private:
  // Keeps a cluster range out of other allocations while it is being allocated.
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

  Result<uint64_t> find_free_run(uint64_t count);
  bool reserved(uint64_t cluster) const;
  Result<void> create_block(uint64_t block_index);
  Result<void> grow_table(uint64_t min_entries);
  Result<void> punch(const std::vector<uint64_t>& clusters);

  Storage& storage_;
  const Layout& layout_;
  MetadataMap& metadata_;
  Header& header_;
  TableCache cache_;
  std::vector<uint64_t> table_;  // block host offsets, 0 for none
  uint64_t table_offset_ = 0;
  uint32_t table_clusters_ = 0;
  uint64_t free_hint_ = 0;          // no free cluster below this index
  uint64_t compressed_cursor_ = 0;  // next free byte in the current compressed cluster, or 0
  std::vector<std::pair<uint64_t, uint64_t>> reserved_;  // clusters being allocated right now
};

}  // namespace cella::block::qcow2
