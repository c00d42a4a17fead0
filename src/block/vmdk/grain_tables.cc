#include "block/vmdk/grain_tables.h"

#include <algorithm>
#include <cstring>

#include "base/bits.h"

namespace cella::block::vmdk {

namespace {

uint64_t sectors_for(uint64_t bytes) {
  return (bytes + 511) / 512;
}

// True when [sector*512, sector*512 + bytes) lies inside a file of file_size bytes.
bool inside(uint64_t sector, uint64_t bytes, uint64_t file_size) {
  return sector <= file_size / 512 && sector * 512 + bytes <= file_size;
}

}  // namespace

Result<GrainTables> GrainTables::load(HostFile* file, const SparseHeader& header,
                                      uint64_t gd_sector, uint64_t rgd_sector, uint64_t file_size) {
  GrainTables tables(file, header, gd_sector, rgd_sector);
  const uint64_t count = header.gd_entries();
  const auto load_directory = [&](uint64_t sector, const char* name,
                                  std::vector<uint32_t>& out) -> Result<void> {
    if (!inside(sector, count * 4, file_size)) {
      return make_error("the {} grain directory (sector {}, {} entries) is outside the file", name,
                        sector, count);
    }
    CELLA_TRY_ASSIGN(entries, tables.read_entries(sector, count));
    for (uint64_t t = 0; t < count; ++t) {
      if (entries[t] != 0 && !inside(entries[t], header.gt_bytes(), file_size)) {
        return make_error("{} grain directory entry {} points to sector {}, outside the file", name,
                          t, entries[t]);
      }
    }
    out = std::move(entries);
    return ok();
  };
  CELLA_TRY(load_directory(gd_sector, "primary", tables.directory_));
  if (rgd_sector != 0) CELLA_TRY(load_directory(rgd_sector, "redundant", tables.redundant_));
  return tables;
}

Result<std::vector<uint32_t>> GrainTables::read_entries(uint64_t sector, uint64_t count) const {
  std::vector<uint32_t> entries(count);
  CELLA_TRY(file_->read(sector * 512,
                        std::span<uint8_t>(reinterpret_cast<uint8_t*>(entries.data()), count * 4)));
  for (uint32_t& entry : entries) entry = load_le<uint32_t>(&entry);
  return entries;
}

Result<void> GrainTables::write_entries(uint64_t sector, const std::vector<uint32_t>& entries) {
  std::vector<uint8_t> bytes(sectors_for(entries.size() * 4) * 512, 0);
  for (size_t i = 0; i < entries.size(); ++i) store_le<uint32_t>(&bytes[i * 4], entries[i]);
  return file_->write(sector * 512, std::span<const uint8_t>(bytes.data(), entries.size() * 4));
}

Result<void> GrainTables::make_room() {
  if (cache_.size() < kCachedGrainTables) return ok();
  auto victim = cache_.end();
  for (auto it = cache_.begin(); it != cache_.end(); ++it) {
    if (!it->second.dirty &&
        (victim == cache_.end() || it->second.last_use < victim->second.last_use)) {
      victim = it;
    }
  }
  if (victim == cache_.end()) {  // every cached table is dirty: write them all back
    CELLA_TRY(flush());
    return make_room();
  }
  cache_.erase(victim);
  return ok();
}

Result<GrainTables::CachedTable*> GrainTables::table(uint64_t index) {
  auto it = cache_.find(index);
  if (it == cache_.end()) {
    CELLA_TRY(make_room());
    CELLA_TRY_ASSIGN(file_size, file_->size());
    if (!inside(directory_[index], header_.gt_bytes(), file_size)) {
      return make_error("grain directory entry {} points to sector {}, outside the file", index,
                        directory_[index]);
    }
    CELLA_TRY_ASSIGN(entries, read_entries(directory_[index], header_.num_gtes_per_gt));
    it = cache_.emplace(index, CachedTable{std::move(entries), false, 0}).first;
  }
  it->second.last_use = ++clock_;
  return &it->second;
}

Result<uint32_t> GrainTables::get(uint64_t grain) {
  const uint64_t index = grain / header_.num_gtes_per_gt;
  if (index >= directory_.size()) {
    return make_error("grain {} is beyond the grain directory", grain);
  }
  if (directory_[index] == 0) return 0;
  CELLA_TRY_ASSIGN(cached, table(index));
  return cached->entries[grain % header_.num_gtes_per_gt];
}

Result<void> GrainTables::set(uint64_t grain, uint32_t value, const Allocator& allocate) {
  const uint64_t index = grain / header_.num_gtes_per_gt;
  if (index >= directory_.size()) {
    return make_error("grain {} is beyond the grain directory", grain);
  }
  CachedTable* cached = nullptr;
  if (directory_[index] == 0) {
    // A new grain table (and its redundant copy) in freshly allocated space.
    const uint64_t table_sectors = sectors_for(header_.gt_bytes());
    CELLA_TRY(make_room());
    CELLA_TRY_ASSIGN(offset, allocate(table_sectors * 512 * (has_redundant() ? 2 : 1)));
    if (offset / 512 + 2 * table_sectors > UINT32_MAX) {
      return make_error("the extent has grown beyond what 32-bit grain directory entries address");
    }
    directory_[index] = static_cast<uint32_t>(offset / 512);
    if (has_redundant()) redundant_[index] = static_cast<uint32_t>(offset / 512 + table_sectors);
    new_tables_.push_back(index);
    cached = &cache_[index];
    cached->entries.assign(header_.num_gtes_per_gt, 0);
    cached->last_use = ++clock_;
  } else {
    CELLA_TRY_ASSIGN(found, table(index));
    cached = found;
  }
  cached->entries[grain % header_.num_gtes_per_gt] = value;
  cached->dirty = true;
  return ok();
}

bool GrainTables::dirty() const {
  if (!new_tables_.empty()) return true;
  return std::any_of(cache_.begin(), cache_.end(), [](const auto& e) { return e.second.dirty; });
}

Result<void> GrainTables::write_directory_sectors(const std::vector<uint64_t>& tables) {
  // Rewrites each 512-byte sector of the directories holding a changed entry.
  std::vector<uint64_t> sectors;
  for (uint64_t table : tables) sectors.push_back(table / 128);
  std::sort(sectors.begin(), sectors.end());
  sectors.erase(std::unique(sectors.begin(), sectors.end()), sectors.end());
  for (const bool redundant : {false, true}) {
    if (redundant && !has_redundant()) break;
    const std::vector<uint32_t>& entries = redundant ? redundant_ : directory_;
    const uint64_t base = redundant ? rgd_sector_ : gd_sector_;
    for (uint64_t sector : sectors) {
      const uint64_t first = sector * 128;
      const uint64_t count = std::min<uint64_t>(128, entries.size() - first);
      CELLA_TRY(write_entries(
          base + sector,
          std::vector<uint32_t>(entries.begin() + first, entries.begin() + first + count)));
    }
  }
  return ok();
}

Result<void> GrainTables::flush() {
  if (!dirty()) return ok();
  // 1. The grains the new GTEs point to reach the disk before any GTE does.
  CELLA_TRY(file_->flush());
  // 2. Grain tables: the primary copy, then the redundant one.
  for (auto& [index, cached] : cache_) {
    if (!cached.dirty) continue;
    CELLA_TRY(write_entries(directory_[index], cached.entries));
    if (has_redundant() && redundant_[index] != 0) {
      CELLA_TRY(write_entries(redundant_[index], cached.entries));
    }
    cached.dirty = false;
  }
  // 3. New grain tables are durable before the directory entries that point to them.
  if (!new_tables_.empty()) {
    CELLA_TRY(file_->flush());
    CELLA_TRY(write_directory_sectors(new_tables_));
    new_tables_.clear();
  }
  return file_->flush();
}

Result<std::vector<uint32_t>> GrainTables::read_table(uint64_t index, bool redundant) {
  if (!redundant) {
    auto it = cache_.find(index);
    if (it != cache_.end()) return it->second.entries;
  }
  const uint32_t sector = redundant ? redundant_entry(index) : directory_[index];
  CELLA_TRY_ASSIGN(file_size, file_->size());
  if (sector == 0 || !inside(sector, header_.gt_bytes(), file_size)) {
    return make_error("grain table {} at sector {} is outside the file", index, sector);
  }
  return read_entries(sector, header_.num_gtes_per_gt);
}

Result<void> GrainTables::rewrite_redundant(const Allocator& allocate) {
  if (!has_redundant()) return ok();
  std::vector<uint64_t> changed;
  const uint64_t table_sectors = sectors_for(header_.gt_bytes());
  for (uint64_t t = 0; t < directory_.size(); ++t) {
    if (directory_[t] == 0) {
      if (redundant_[t] != 0) {
        redundant_[t] = 0;
        changed.push_back(t);
      }
      continue;
    }
    CELLA_TRY_ASSIGN(entries, read_table(t, false));
    if (redundant_[t] == 0) {
      CELLA_TRY_ASSIGN(offset, allocate(table_sectors * 512));
      redundant_[t] = static_cast<uint32_t>(offset / 512);
      changed.push_back(t);
    }
    CELLA_TRY(write_entries(redundant_[t], entries));
  }
  CELLA_TRY(file_->flush());
  if (!changed.empty()) {
    // Only the redundant directory changes here; write_directory_sectors writes both, and the
    // primary sectors it rewrites are unchanged.
    CELLA_TRY(write_directory_sectors(changed));
    CELLA_TRY(file_->flush());
  }
  return ok();
}

}  // namespace cella::block::vmdk
