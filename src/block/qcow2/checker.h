// The machinery behind check_image(): one pass that counts references (checker_scan.cc) and
// the comparison with stored refcounts and the repairs (checker_repair.cc).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "block/qcow2/check.h"
#include "block/qcow2/metadata_map.h"
#include "block/qcow2/reference_counts.h"

namespace cella::block::qcow2 {

class Checker {
 public:
  Checker(const CheckInput& input, bool repair);

  // Counts every reference; with repair, clears entries that cannot be valid.
  Result<void> scan();
  // Compares with the stored refcounts; with repair, corrects them in place or rebuilds the
  // refcount structure.
  Result<void> compare_refcounts();
  // Checks (and with repair fixes) bit 63 of the active L1 and L2 entries.
  Result<void> check_copied_flags();

  // The report, with a note of the problems whose messages were left out.
  CheckReport report() const {
    CheckReport report = report_;
    report.image_end_offset = end_cluster_ << layout_.cluster_bits;
    if (suppressed_ > 0) report.messages.push_back(fmt::format("... and {} more", suppressed_));
    return report;
  }

 private:
  struct Range {
    uint64_t offset;
    uint64_t bytes;
  };

  template <class... Args>
  void problem(bool leak, fmt::format_string<Args...> format, Args&&... args) {
    (leak ? report_.leaks : report_.corruptions) += 1;
    if (report_.messages.size() < kMaxMessages) {
      report_.messages.push_back(fmt::format(format, std::forward<Args>(args)...));
    } else {
      ++suppressed_;
    }
  }
  void fixed(bool leak) { (leak ? report_.leaks_fixed : report_.corruptions_fixed) += 1; }

  uint64_t refs(uint64_t cluster) const;
  void add_refs(uint64_t offset, uint64_t bytes);
  void remove_refs(uint64_t offset, uint64_t bytes);
  bool inside_file(uint64_t offset, uint64_t bytes) const;
  Result<void> register_metadata(uint64_t offset, uint64_t bytes, MetadataKind kind,
                                 const std::string& what);
  Result<void> scan_refcount_table();
  Result<void> scan_l1(uint64_t offset, uint32_t entries, bool active, const std::string& what);
  Result<void> scan_l2(uint64_t offset, uint64_t first_guest_cluster, bool active,
                       const std::string& what);
  Result<void> scan_bitmaps();
  Result<void> write_entry(uint64_t table_offset, uint64_t index, uint64_t value);
  // Entry `index` of an L2 table read into memory (8 or 16 bytes each).
  L2Slot read_slot(std::span<const uint8_t> table, uint64_t index) const;
  void write_slot(std::span<uint8_t> table, uint64_t index, L2Slot slot) const;
  Result<void> rebuild_refcounts();

  static constexpr size_t kMaxMessages = 200;

  Storage& storage_;
  const Header& header_;
  const Layout& layout_;
  const std::vector<Snapshot>& snapshots_;
  uint64_t snapshot_table_bytes_;
  bool repair_;
  uint64_t file_size_ = 0;
  uint64_t file_clusters_ = 0;
  ReferenceCounts refs_;
  MetadataMap metadata_;
  std::vector<uint64_t> refcount_table_;   // valid block offsets (0 for none or invalid)
  std::vector<Range> refcount_structure_;  // the table and blocks, dropped by a rebuild
  bool rebuild_needed_ = false;
  std::vector<std::pair<uint64_t, uint64_t>> active_l2_;  // (L1 index, L2 offset)
  uint64_t next_contiguous_ = 0;  // host offset after the last data cluster of this L2 table
  uint64_t end_cluster_ = 0;      // one past the highest cluster referenced or refcounted
  size_t suppressed_ = 0;
  CheckReport report_;
};

}  // namespace cella::block::qcow2
