// The grain directory and grain tables of a hosted sparse extent (VMware Virtual Disk Format 1.1,
// "Grain Directories and Grain Tables"), with their redundant copies, a bounded write-back cache
// of grain tables, and the write order that keeps the extent consistent across a crash.
//
// Crash safety: a grain table entry (GTE) changes only in the cache. flush() first makes the
// grain data durable (fdatasync), then writes the dirty grain tables (primary, then redundant),
// then, only if a grain table was created, makes those durable before writing the grain
// directory entries (GDEs) that point to them, and finally makes everything durable. A crash
// at any instant therefore leaves every on-disk GTE and GDE pointing at data that was written
// before it; grains appended since the last flush are at worst leaked.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "block/host_file.h"
#include "block/vmdk/sparse_header.h"

namespace cella::block::vmdk {

class GrainTables {
 public:
  // Allocates `bytes` of metadata space in the extent file, returning its byte offset.
  using Allocator = std::function<Result<uint64_t>(uint64_t bytes)>;

  // Reads the grain directory (and the redundant one when rgd_sector != 0) and checks that each
  // present entry points at a whole grain table inside the file.
  static Result<GrainTables> load(HostFile* file, const SparseHeader& header, uint64_t gd_sector,
                                  uint64_t rgd_sector, uint64_t file_size);

  // The GTE of a grain: 0 when its grain table is absent.
  Result<uint32_t> get(uint64_t grain);
  // Whether the grain table covering a grain exists (a GDE of 0 means a whole table of
  // unallocated grains).
  bool has_table(uint64_t grain) const {
    const uint64_t index = grain / header_.num_gtes_per_gt;
    return index < directory_.size() && directory_[index] != 0;
  }
  // Changes a GTE (written back by flush), creating its grain table with `allocate` if needed.
  Result<void> set(uint64_t grain, uint32_t value, const Allocator& allocate);
  Result<void> flush();
  bool dirty() const;

  uint64_t table_count() const { return directory_.size(); }
  uint32_t directory_entry(uint64_t table) const { return directory_[table]; }
  uint32_t redundant_entry(uint64_t table) const {
    return redundant_.empty() ? 0 : redundant_[table];
  }
  bool has_redundant() const { return !redundant_.empty(); }
  // A grain table read straight from the file (for check), or the cached copy when dirty.
  Result<std::vector<uint32_t>> read_table(uint64_t table, bool redundant);
  // Overwrites the redundant grain directory and tables with the primary ones (check -r),
  // allocating redundant tables that are missing.
  Result<void> rewrite_redundant(const Allocator& allocate);

 private:
  struct CachedTable {
    std::vector<uint32_t> entries;
    bool dirty = false;
    uint64_t last_use = 0;
  };

  GrainTables(HostFile* file, const SparseHeader& header, uint64_t gd_sector, uint64_t rgd_sector)
      : file_(file), header_(header), gd_sector_(gd_sector), rgd_sector_(rgd_sector) {}
  Result<CachedTable*> table(uint64_t index);
  Result<std::vector<uint32_t>> read_entries(uint64_t sector, uint64_t count) const;
  Result<void> write_entries(uint64_t sector, const std::vector<uint32_t>& entries);
  Result<void> write_directory_sectors(const std::vector<uint64_t>& tables);
  Result<void> make_room();

  HostFile* file_;
  SparseHeader header_;
  uint64_t gd_sector_;
  uint64_t rgd_sector_;
  std::vector<uint32_t> directory_;
  std::vector<uint32_t> redundant_;
  std::vector<uint64_t> new_tables_;  // tables whose GDEs are not written yet
  std::unordered_map<uint64_t, CachedTable> cache_;
  uint64_t clock_ = 0;
};

// Grain tables kept in memory at most (512 KiB with 512-entry tables; 16 GiB of 64 KiB grains).
inline constexpr size_t kCachedGrainTables = 256;

}  // namespace cella::block::vmdk
