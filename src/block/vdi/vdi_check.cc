// The consistency check of a VDI image: block map entries in range and unshared, and data
// slots counted in the header but used by no block (leaks), which repair compacts away.
#include "block/vdi/vdi_image.h"

namespace cella::block::vdi {

Result<CheckReport> VdiImage::check(bool repair) {
  if (repair && read_only_)
    return make_error("{}: repairing needs the image open read-write", path());
  if (!read_only_) CELLA_TRY(flush());
  CheckReport report;
  CELLA_TRY_ASSIGN(file_size, file_.size());
  CELLA_TRY_ASSIGN(scan, scan_map());
  const uint32_t count = header_.blocks_allocated;
  const uint32_t used = scan.used;
  report.total_clusters = header_.blocks;
  report.corruptions = scan.problems.size();
  for (const std::string& problem : scan.problems) report.messages.push_back("ERROR: " + problem);
  report.allocated_clusters = used;
  // Slots counted but unused: a crash between counting a new block and pointing the map at it,
  // or data written past the count. Both lose nothing; compaction gives the space back.
  uint64_t leaks = count - used;
  if (leaks != 0) {
    report.messages.push_back(fmt::format(
        "Leaked: {} data blocks are counted in the header but used by no block", leaks));
  }
  const uint64_t end = header_.data_offset + count * header_.slot_size();
  if (file_size > end) {
    const uint64_t extra = (file_size - end + header_.slot_size() - 1) / header_.slot_size();
    leaks += extra;
    report.messages.push_back(
        fmt::format("Leaked: {} bytes after the last allocated data block", file_size - end));
  }
  // After a repair, `leaks` counts what is left (none), `leaks_fixed` what was repaired.
  if (repair && leaks != 0 && report.corruptions == 0) {
    CELLA_TRY(compact());
    report.leaks_fixed = leaks;
  } else {
    report.leaks = leaks;
  }
  return report;
}

}  // namespace cella::block::vdi
