// `cella img check` for VHDX: headers, region tables, the log, BAT entries (states, ranges,
// overlaps) and leaked space: host data in unreferenced 1 MiB units, which a crash between
// writing a new block and logging its BAT entry leaves behind.
#include <algorithm>

#include "base/bits.h"
#include "block/vhdx/vhdx_image.h"

namespace cella::block::vhdx {

Result<CheckReport> VhdxImage::check(bool repair) {
  if (repair && read_only()) return make_error("{}: repairing needs a read-write open", path());
  CheckReport report;
  if (log_replayed_) {
    ++report.corruptions_fixed;
    report.messages.push_back("repaired: " + notes_.front());
  }
  bool headers_damaged = false, tables_damaged = false;
  for (const std::string& note : notes_) {
    if (note.rfind("replayed", 0) == 0) continue;
    headers_damaged |= note.rfind("header", 0) == 0;
    tables_damaged |= note.rfind("region table", 0) == 0 || note.rfind("the two region", 0) == 0;
    if (!repair) {
      ++report.corruptions;
      report.messages.push_back(note);
    }
  }
  if (repair && headers_damaged) {
    CELLA_TRY(update_headers(header_));  // rewrites both slots
    ++report.corruptions_fixed;
    report.messages.push_back("repaired: rewrote both headers");
  }
  if (repair && tables_damaged) {
    const std::vector<uint8_t> table = serialize_region_table(regions_);
    for (uint64_t offset : kRegionTableOffsets) CELLA_TRY(file_.write(offset, table));
    CELLA_TRY(file_.flush());
    ++report.corruptions_fixed;
    report.messages.push_back("repaired: rewrote both region tables");
  }
  bat_problems_.report_to(report);
  report.total_clusters = layout_.payload_blocks;
  for (uint64_t block = 0; block < layout_.payload_blocks; ++block) {
    const uint8_t state = entry_state(payload_entry(block));
    if (state == static_cast<uint8_t>(PayloadState::kFullyPresent) ||
        state == static_cast<uint8_t>(PayloadState::kPartiallyPresent)) {
      ++report.allocated_clusters;
    }
  }
  // Leaks: unreferenced 1 MiB units that hold host data.
  const std::map<uint64_t, uint64_t> gaps = free_.ranges();
  for (const auto& [begin, end] : gaps) {
    CELLA_TRY_ASSIGN(data, file_.next_data(begin));
    if (data >= end) continue;
    const uint64_t units = (end - begin) / kAlignment;
    report.messages.push_back(fmt::format(
        "leaked {} bytes at offset {:#x}: no BAT entry references them", end - begin, begin));
    if (!repair) {
      report.leaks += units;
      continue;
    }
    CELLA_TRY_ASSIGN(file_size, file_.size());
    if (end >= file_size) {
      CELLA_TRY(file_.truncate(begin));
      file_end_ = begin;
      free_.remove(begin, end - begin);
    } else {
      CELLA_TRY(file_.punch_hole(begin, end - begin));
    }
    report.leaks_fixed += units;
  }
  if (repair) CELLA_TRY(file_.flush());
  return report;
}

std::vector<InfoField> VhdxImage::info() const {
  std::vector<InfoField> fields = {
      {"subformat", differencing()                     ? "differencing"
                    : metadata_.leave_blocks_allocated ? "fixed"
                                                       : "dynamic"},
      {"creator", creator_},
      {"block size", std::to_string(metadata_.block_size)},
      {"logical sector size", std::to_string(metadata_.logical_sector_size)},
      {"physical sector size", std::to_string(metadata_.physical_sector_size)},
      {"virtual disk id", metadata_.virtual_disk_id.to_string()},
      {"log size", std::to_string(header_.log_length)},
  };
  if (differencing()) {
    fields.push_back({"parent", parent_path_});
    for (const auto& [key, value] : metadata_.parent_locator) {
      fields.push_back({"parent locator " + key, value});
    }
  }
  for (const std::string& note : notes_) fields.push_back({"note", note});
  return fields;
}

}  // namespace cella::block::vhdx
