// The qcow2 consistency check (`cella img check`): every reference in the image (header, L1
// and L2 tables of the active state and of every snapshot, refcount structures, snapshot table,
// bitmaps) is counted into a rebuilt refcount array, which is compared with the stored
// refcounts. Stored refcounts above the count are leaks, below it corruptions.
//
// Repair fixes leaks and raises refcounts that are too low (the shared clusters then get
// copied on write, which makes double references safe), clears L1/L2 entries that point outside
// the file or into metadata (their content was unreadable anyway), rebuilds the refcount
// structure when it is itself damaged, and corrects the "copied" flags of the active tables.
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "block/block_image.h"
#include "block/qcow2/header.h"
#include "block/qcow2/layout.h"
#include "block/qcow2/snapshots.h"
#include "block/qcow2/storage.h"

namespace cella::block::qcow2 {

struct CheckInput {
  Storage& storage;
  const Header& header;
  const Layout& layout;
  const std::vector<Snapshot>& snapshots;
  uint64_t snapshot_table_bytes = 0;
};

// Checks the image as it is on disk (callers flush first). With repair, the file is modified
// and the header may point to a new refcount table: callers reload their metadata. After a
// repair, `corruptions` and `leaks` count what remains (a second check), the *_fixed fields
// what was repaired.
Result<CheckReport> check_image(const CheckInput& input, bool repair);

}  // namespace cella::block::qcow2
