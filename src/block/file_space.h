// Space bookkeeping for formats whose files have no free-space table (VHD, VHDX): the
// structures found while opening an image are listed as ranges, which answers "do any two
// overlap?" (hostile images, `check`) and "which gaps are free?" (reuse before growing the file).
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cella::block {

struct FileRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string what;  // for messages: "BAT", "parent locator 1"...; empty in numbered ranges
  int64_t tag = -1;  // the caller's index (a BAT entry), -1 for metadata
  // Numbered ranges (one per block, and a hostile image has millions) are named `kind number`,
  // formatted only when a message needs it.
  const char* kind = nullptr;
  uint64_t number = 0;
  uint64_t end() const { return offset + length; }
  std::string name() const;
};

// Two ranges that share bytes; the pointers are into the vector given to find_overlaps.
struct Overlap {
  const FileRange* earlier;
  const FileRange* later;
  std::string message() const;
};

// Each range that overlaps an earlier one (in order of offset).
std::vector<Overlap> find_overlaps(const std::vector<FileRange>& ranges);

// Free byte ranges of a file, merged and ordered.
class FreeSpace {
 public:
  void add(uint64_t offset, uint64_t length);
  void remove(uint64_t offset, uint64_t length);
  // First free range that holds `length` bytes at an `alignment` multiple; removes and returns
  // its offset.
  std::optional<uint64_t> take(uint64_t length, uint64_t alignment);
  // The parts of [begin, end) that no `used` range covers.
  static FreeSpace gaps(const std::vector<FileRange>& used, uint64_t begin, uint64_t end);
  uint64_t total() const;
  const std::map<uint64_t, uint64_t>& ranges() const { return ranges_; }  // offset -> end

 private:
  std::map<uint64_t, uint64_t> ranges_;
};

}  // namespace cella::block

// `problems.add("{}", overlap)` formats the message only when it is kept.
template <>
struct fmt::formatter<cella::block::Overlap> : fmt::formatter<std::string> {
  auto format(const cella::block::Overlap& overlap, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(overlap.message(), ctx);
  }
};
