// `cella img check` for VHD: footer and copy, dynamic header, BAT entries (in range, not
// overlapping), and leaked space: allocated host space inside a block-sized gap that no BAT
// entry references (what a crash between writing a block and naming it in the BAT leaves).
#include <algorithm>
#include <ctime>

#include "base/bits.h"
#include "block/vhd/vhd_geometry.h"
#include "block/vhd/vhd_image.h"

namespace cella::block::vhd {

// Whether a gap holds data. Punching blocks that do not start and end on host pages leaves
// the pages they share allocated, as zeros: only a non-zero byte counts.
Result<bool> VhdImage::gap_holds_data(uint64_t begin, uint64_t end) const {
  std::vector<uint8_t> bytes;
  uint64_t at = begin;
  while (at < end) {
    CELLA_TRY_ASSIGN(data, file_.next_data(at));
    if (data >= end) return false;
    CELLA_TRY_ASSIGN(hole, file_.next_hole(data));
    const uint64_t run_end = std::min(end, hole);
    for (uint64_t from = data; from < run_end; from += bytes.size()) {
      bytes.resize(static_cast<size_t>(std::min<uint64_t>(run_end - from, 1 << 20)));
      CELLA_TRY(file_.read(from, bytes));
      if (std::any_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b != 0; })) return true;
    }
    at = run_end;
  }
  return false;
}

Result<CheckReport> VhdImage::check(bool repair) {
  CheckReport report;
  if (repair && read_only()) return make_error("{}: repairing needs a read-write open", path());
  for (const std::string& warning : warnings_) {
    const bool rewritten = warning.rfind("rewrote", 0) == 0;
    const bool damaged_footer = warning.find("footer at the end") != std::string::npos;
    const bool copy_differs = warning.find("copy at offset 0 differs") != std::string::npos;
    if (rewritten) {
      ++report.corruptions_fixed;
      report.messages.push_back("repaired: " + warning);
    } else if (copy_differs && repair) {
      CELLA_TRY(write_footer_at(0));
      CELLA_TRY(file_.flush());
      ++report.corruptions_fixed;
      report.messages.push_back("repaired: " + warning);
    } else if (damaged_footer || copy_differs) {
      if (!(damaged_footer && !read_only())) ++report.corruptions;
      report.messages.push_back(warning);
    } else {
      report.messages.push_back("warning: " + warning);
    }
  }
  if (!sparse()) return report;

  bat_problems_.report_to(report);
  report.total_clusters = block_count();
  for (uint64_t block = 0; block < block_count(); ++block) {
    if (block_offset(block) >= 0) ++report.allocated_clusters;
  }
  // Leaks: host data in unreferenced gaps of at least a block (smaller gaps are alignment).
  std::vector<std::pair<uint64_t, uint64_t>> leaked;
  for (const auto& [begin, end] : free_.ranges()) {
    if (end - begin < block_footprint()) continue;
    CELLA_TRY_ASSIGN(holds_data, gap_holds_data(begin, end));
    if (!holds_data) continue;
    leaked.emplace_back(begin, end);
    const uint64_t blocks = (end - begin + block_footprint() - 1) / block_footprint();
    report.messages.push_back(fmt::format(
        "leaked {} bytes at offset {:#x}: no BAT entry references them", end - begin, begin));
    if (!repair) {
      report.leaks += blocks;
      continue;
    }
    if (end == footer_offset_) {
      // Trailing space: move the footer back and shorten the file.
      CELLA_TRY(write_footer_at(begin));
      CELLA_TRY(file_.flush());
      CELLA_TRY(file_.truncate(begin + kFooterSize));
      footer_offset_ = begin;
    } else {
      CELLA_TRY(file_.punch_hole(begin, end - begin));
    }
    report.leaks_fixed += blocks;
  }
  for (const auto& [begin, end] : leaked) {
    if (repair && end == footer_offset_ + (end - begin)) free_.remove(begin, end - begin);
  }
  if (repair) CELLA_TRY(file_.flush());
  return report;
}

std::vector<InfoField> VhdImage::info() const {
  const auto& app = footer_.creator_application;
  std::vector<InfoField> fields = {
      {"subformat", disk_type_name(footer_.disk_type)},
      {"creator", fmt::format("{} {}.{} ({})", std::string(app.begin(), app.end()),
                              footer_.creator_version >> 16, footer_.creator_version & 0xFFFF,
                              fourcc(footer_.creator_host_os))},
      {"unique id", footer_.unique_id.to_string()},
      {"geometry (C/H/S)", fmt::format("{}/{}/{}", footer_.geometry.cylinders,
                                       footer_.geometry.heads, footer_.geometry.sectors_per_track)},
  };
  const std::time_t created = static_cast<std::time_t>(footer_.timestamp) + kVhdEpoch;
  std::tm utc{};
  gmtime_r(&created, &utc);
  char when[32];
  std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &utc);
  fields.push_back({"created", when});
  if (footer_.current_size != size_) {
    fields.push_back({"current size field",
                      fmt::format("{} (the geometry sizes the disk)", footer_.current_size)});
  }
  if (sparse()) fields.push_back({"block size", std::to_string(block_size_)});
  if (differencing()) {
    fields.push_back({"parent", parent_path_});
    fields.push_back({"parent unique id", header_.parent_unique_id.to_string()});
  }
  if (footer_.saved_state != 0) fields.push_back({"saved state", "yes"});
  for (const std::string& warning : warnings_) fields.push_back({"warning", warning});
  return fields;
}

}  // namespace cella::block::vhd
