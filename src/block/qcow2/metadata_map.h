// Where the image's metadata lives, cluster by cluster: header, L1 tables, active L2 tables,
// refcount table and blocks, snapshot table. Guest data is never written over metadata (the
// overlap check qemu calls "cached"), and allocations that land on metadata reveal corrupt
// refcounts instead of silently destroying tables.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace cella::block::qcow2 {

enum class MetadataKind : uint8_t {
  kHeader,
  kL1Table,
  kL2Table,
  kRefcountTable,
  kRefcountBlock,
  kSnapshotTable,
  kSnapshotL1Table,
};

const char* metadata_kind_name(MetadataKind kind);

class MetadataMap {
 public:
  struct Region {
    uint64_t first = 0;  // cluster index
    uint64_t count = 0;
    MetadataKind kind = MetadataKind::kHeader;
  };

  // Adds clusters [first, first+count); returns the region it collides with, if any (then
  // nothing is added).
  std::optional<Region> add(uint64_t first, uint64_t count, MetadataKind kind);
  // Removes the region that starts at `first`.
  void remove(uint64_t first);
  // The region overlapping clusters [first, first+count), if any.
  std::optional<Region> find(uint64_t first, uint64_t count) const;
  void clear() { regions_.clear(); }
  size_t size() const { return regions_.size(); }

 private:
  std::map<uint64_t, Region> regions_;  // by first cluster
};

// "cluster 5 (host offset 0x50000) holds the refcount table" style description.
std::string describe_region(const MetadataMap::Region& region, uint64_t cluster_size);

}  // namespace cella::block::qcow2
