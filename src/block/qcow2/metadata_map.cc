#include "block/qcow2/metadata_map.h"

#include <fmt/format.h>

namespace cella::block::qcow2 {

namespace {

constexpr const char* kKindNames[] = {
    "the header",       "the L1 table",       "an L2 table",           "the refcount table",
    "a refcount block", "the snapshot table", "a snapshot's L1 table",
};

}  // namespace

const char* metadata_kind_name(MetadataKind kind) {
  return kKindNames[static_cast<int>(kind)];
}

std::optional<MetadataMap::Region> MetadataMap::find(uint64_t first, uint64_t count) const {
  if (count == 0) return std::nullopt;
  // The last region starting before first+count is the only candidate that can overlap
  // (regions never overlap each other).
  auto it = regions_.lower_bound(first + count);
  if (it == regions_.begin()) return std::nullopt;
  --it;
  const Region& region = it->second;
  if (region.first + region.count > first) return region;
  return std::nullopt;
}

std::optional<MetadataMap::Region> MetadataMap::add(uint64_t first, uint64_t count,
                                                    MetadataKind kind) {
  if (auto existing = find(first, count)) return existing;
  regions_.emplace(first, Region{first, count, kind});
  return std::nullopt;
}

void MetadataMap::remove(uint64_t first) {
  regions_.erase(first);
}

std::string describe_region(const MetadataMap::Region& region, uint64_t cluster_size) {
  return fmt::format("{} at host offset {:#x}", metadata_kind_name(region.kind),
                     region.first * cluster_size);
}

}  // namespace cella::block::qcow2
