#include "block/file_space.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/bits.h"

namespace cella::block {

std::string FileRange::name() const {
  return kind != nullptr ? fmt::format("{} {}", kind, number) : what;
}

std::string Overlap::message() const {
  return fmt::format("{} (bytes {:#x}..{:#x}) overlaps {} (bytes {:#x}..{:#x})", later->name(),
                     later->offset, later->end(), earlier->name(), earlier->offset, earlier->end());
}

std::vector<Overlap> find_overlaps(const std::vector<FileRange>& ranges) {
  std::vector<const FileRange*> sorted;
  sorted.reserve(ranges.size());
  for (const FileRange& range : ranges) sorted.push_back(&range);
  std::sort(sorted.begin(), sorted.end(), [](const FileRange* a, const FileRange* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->length < b->length;
  });
  std::vector<Overlap> overlaps;
  const FileRange* furthest = nullptr;  // the range reaching furthest so far
  for (const FileRange* range : sorted) {
    if (range->length == 0) continue;
    if (furthest != nullptr && range->offset < furthest->end()) {
      overlaps.push_back({furthest, range});
    }
    if (furthest == nullptr || range->end() > furthest->end()) furthest = range;
  }
  return overlaps;
}

void FreeSpace::add(uint64_t offset, uint64_t length) {
  if (length == 0) return;
  uint64_t begin = offset, end = offset + length;
  auto it = ranges_.upper_bound(begin);
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (prev->second >= begin) {
      begin = prev->first;
      end = std::max(end, prev->second);
      it = ranges_.erase(prev);
    }
  }
  while (it != ranges_.end() && it->first <= end) {
    end = std::max(end, it->second);
    it = ranges_.erase(it);
  }
  ranges_[begin] = end;
}

void FreeSpace::remove(uint64_t offset, uint64_t length) {
  if (length == 0) return;
  const uint64_t end = offset + length;
  auto it = ranges_.upper_bound(offset);
  if (it != ranges_.begin()) --it;
  while (it != ranges_.end() && it->first < end) {
    const uint64_t range_begin = it->first, range_end = it->second;
    if (range_end <= offset) {
      ++it;
      continue;
    }
    it = ranges_.erase(it);
    if (range_begin < offset) ranges_[range_begin] = offset;
    if (range_end > end) ranges_[end] = range_end;
  }
}

std::optional<uint64_t> FreeSpace::take(uint64_t length, uint64_t alignment) {
  for (const auto& [begin, end] : ranges_) {
    const uint64_t start = align_up(begin, alignment);
    if (start >= begin && start <= end && end - start >= length) {
      remove(start, length);
      return start;
    }
  }
  return std::nullopt;
}

FreeSpace FreeSpace::gaps(const std::vector<FileRange>& used, uint64_t begin, uint64_t end) {
  FreeSpace free;
  if (end > begin) free.add(begin, end - begin);
  for (const FileRange& range : used) free.remove(range.offset, range.length);
  return free;
}

uint64_t FreeSpace::total() const {
  uint64_t sum = 0;
  for (const auto& [begin, end] : ranges_) sum += end - begin;
  return sum;
}

}  // namespace cella::block
