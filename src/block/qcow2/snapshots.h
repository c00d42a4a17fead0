// Internal snapshots ("== Snapshots =="): the snapshot table, parsed and listed. Creating,
// applying and deleting snapshots is not implemented; their clusters are honoured (copy-on-write
// of shared clusters, check counts their references).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "block/qcow2/storage.h"

namespace cella::block::qcow2 {

struct Snapshot {
  uint64_t l1_table_offset = 0;
  uint32_t l1_size = 0;
  std::string id;
  std::string name;
  uint32_t date_seconds = 0;
  uint32_t date_nanoseconds = 0;
  uint64_t vm_clock_nanoseconds = 0;
  uint64_t vm_state_size = 0;
  uint64_t disk_size = 0;  // 0 when the entry does not record it
  bool has_disk_size = false;
  int64_t icount = -1;  // -1: not recorded
};

struct SnapshotTable {
  std::vector<Snapshot> snapshots;
  uint64_t bytes = 0;  // size of the table in the file, without the last entry's padding
};

// Reads `count` entries at `offset`, bounded by the file size and qemu's limits.
Result<SnapshotTable> read_snapshot_table(const Storage& storage, uint64_t offset, uint32_t count,
                                          uint64_t cluster_size);

// One snapshot on one self-describing line for `info` (the facts of `qemu-img snapshot -l`):
// "id 1, tag first, vm size 0 B, date 2026-11-21 16:50:10, vm clock 0000:00:00.000".
std::string format_snapshot(const Snapshot& snapshot);

}  // namespace cella::block::qcow2
