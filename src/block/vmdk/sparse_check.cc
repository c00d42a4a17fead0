// The consistency check of a hosted sparse extent: every grain table entry in range, no two
// grains or tables sharing space, the redundant tables matching the primary ones, and no space
// that nothing references (leaks).
#include <algorithm>
#include <string>
#include <unordered_set>

#include "base/bits.h"
#include "block/vmdk/grain_stream.h"
#include "block/vmdk/sparse_extent.h"

namespace cella::block::vmdk {

namespace {

struct Range {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string owner;
};

// Reports every range that shares bytes with an earlier one.
void find_overlaps(std::vector<Range>& ranges, CheckReport& report) {
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
  const Range* widest = nullptr;
  for (const Range& range : ranges) {
    if (widest != nullptr && range.start < widest->end) {
      ++report.corruptions;
      report.messages.push_back(
          fmt::format("ERROR: {} overlaps {} at byte {}", range.owner, widest->owner, range.start));
    }
    if (widest == nullptr || range.end > widest->end) widest = &range;
  }
}

}  // namespace

Result<void> SparseExtent::check(CheckReport& report, bool repair) {
  if (writable()) CELLA_TRY(flush());
  CELLA_TRY_ASSIGN(file_size, file_.size());
  const std::string& name = file_.path();
  const uint64_t grain_size = grain_bytes();
  GrainTables& tables = *tables_;
  std::vector<Range> ranges;
  ranges.push_back({0, 512, "the header"});
  if (header_.descriptor_size != 0) {
    ranges.push_back({header_.descriptor_offset * 512,
                      (header_.descriptor_offset + header_.descriptor_size) * 512,
                      "the embedded descriptor"});
  }
  const uint64_t table_bytes = align_up(header_.gt_bytes(), 512);
  ranges.push_back({header_.gd_offset * 512, header_.gd_offset * 512 + header_.gd_bytes(),
                    "the grain directory"});
  if (tables.has_redundant()) {
    ranges.push_back({header_.rgd_offset * 512, header_.rgd_offset * 512 + header_.gd_bytes(),
                      "the redundant grain directory"});
  }
  uint64_t stale = 0;
  std::unordered_set<uint32_t> scanned;  // a table listed twice is an overlap, scanned once
  report.total_clusters += (size_ + grain_size - 1) / grain_size;
  for (uint64_t t = 0; t < tables.table_count(); ++t) {
    const uint32_t gde = tables.directory_entry(t);
    const uint32_t rgde = tables.redundant_entry(t);
    if (tables.has_redundant() && (gde == 0) != (rgde == 0)) ++stale;
    if (rgde != 0) {
      ranges.push_back({uint64_t{rgde} * 512, uint64_t{rgde} * 512 + table_bytes,
                        fmt::format("redundant grain table {}", t)});
    }
    if (gde == 0) continue;
    ranges.push_back(
        {uint64_t{gde} * 512, uint64_t{gde} * 512 + table_bytes, fmt::format("grain table {}", t)});
    CELLA_TRY_ASSIGN(entries, tables.read_table(t, false));
    if (rgde != 0) {
      auto copy = tables.read_table(t, true);
      if (!copy) {
        ++report.corruptions;
        report.messages.push_back(fmt::format("ERROR: {}: {}", name, copy.error().message()));
      } else {
        for (size_t i = 0; i < entries.size(); ++i) stale += entries[i] != (*copy)[i];
      }
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      const uint64_t grain = t * header_.num_gtes_per_gt + i;
      const uint32_t gte = entries[i];
      if (gte == 0 || (gte == 1 && header_.zeroed_grain())) continue;
      const uint64_t at = uint64_t{gte} * 512;
      if (grain * grain_size >= size_) {
        ++report.corruptions;
        report.messages.push_back(fmt::format(
            "ERROR: {}: grain {} lies beyond the extent's capacity but is allocated", name, grain));
        continue;
      }
      ++report.allocated_clusters;
      if (at >= file_size) {
        ++report.corruptions;
        report.messages.push_back(fmt::format(
            "ERROR: {}: grain {} is at byte {}, beyond the end of the file", name, grain, at));
        continue;
      }
      if (at < header_.overhead * 512) {
        ++report.corruptions;
        report.messages.push_back(fmt::format(
            "ERROR: {}: grain {} is at sector {}, inside the metadata area", name, grain, gte));
        continue;
      }
      uint64_t length = grain_size;
      if (header_.compressed() && header_.markers()) {
        std::vector<uint8_t> prefix(16, 0);
        CELLA_TRY(file_.read_zero_filled(at, prefix));
        const Marker marker = decode_marker(prefix);
        if (marker.size == 0 || marker.value != grain * header_.grain_size ||
            marker.size > max_compressed_grain(grain_size) ||
            at + kGrainMarkerPrefix + marker.size > file_size) {
          ++report.corruptions;
          report.messages.push_back(fmt::format(
              "ERROR: {}: grain {} has an invalid grain marker at sector {}", name, grain, gte));
          continue;
        }
        length = align_up(kGrainMarkerPrefix + marker.size, 512);
      } else if (header_.compressed()) {
        length = 512;  // without markers the compressed length is not recorded
      }
      ranges.push_back({at, at + length, fmt::format("grain {}", grain)});
    }
  }
  if (stale != 0) {
    // The redundant copy lags the primary after a crash between their updates; the primary is
    // authoritative (as VMware and qemu read it), so this loses nothing. Counted with leaks.
    report.messages.push_back(fmt::format(
        "Leaked: {}: {} redundant grain table entries differ from the primary ones", name, stale));
    if (repair && writable()) {
      const auto allocator = [this](uint64_t bytes) { return allocate(bytes); };
      CELLA_TRY(tables.rewrite_redundant(allocator));
      report.leaks_fixed += stale;
    } else {
      report.leaks += stale;
    }
  }
  find_overlaps(ranges, report);
  if (header_.compressed()) return ok();

  // Leaks: space after the metadata area that holds data but belongs to nothing.
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
  uint64_t cursor = header_.overhead * 512;
  std::vector<std::pair<uint64_t, uint64_t>> gaps;
  for (const Range& range : ranges) {
    if (range.start > cursor) gaps.emplace_back(cursor, std::min(range.start, file_size));
    cursor = std::max(cursor, range.end);
  }
  if (cursor < file_size) gaps.emplace_back(cursor, file_size);
  for (const auto& [start, end] : gaps) {
    if (start >= end) continue;
    CELLA_TRY_ASSIGN(data, file_.next_data(start));
    if (data >= end) continue;
    const uint64_t units = (end - data + grain_size - 1) / grain_size;
    report.messages.push_back(fmt::format(
        "Leaked: {}: bytes [{}, {}) are referenced by no grain table", name, data, end));
    if (!repair || !file_.writable()) {
      report.leaks += units;
      continue;
    }
    if (end == file_size && writable()) {
      CELLA_TRY(file_.truncate(start));
      end_ = align_up(std::max(start, header_.overhead * 512), grain_size);
    } else {
      CELLA_TRY(file_.punch_hole(data, end - data));
    }
    report.leaks_fixed += units;
  }
  if (repair && file_.writable()) CELLA_TRY(file_.flush());
  return ok();
}

}  // namespace cella::block::vmdk
