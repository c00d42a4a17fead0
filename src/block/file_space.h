// Space bookkeeping for formats whose files have no free-space table (VHD, VHDX): the
// structures found while opening an image are listed as ranges, which answers "do any two
// overlap?" (hostile images, `check`) and "which gaps are free?" (reuse before growing the file).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cella::block {

struct FileRange {
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string what;  // for messages: "BAT", "block 12", ...
  int64_t tag = -1;  // the caller's index (a block number), -1 for metadata
  uint64_t end() const { return offset + length; }
};

struct Overlap {
  FileRange earlier, later;
  std::string message() const;
};

// Sorts `ranges` by offset and returns each range that overlaps an earlier one.
std::vector<Overlap> find_overlaps(std::vector<FileRange>& ranges);

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
