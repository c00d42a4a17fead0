#include "user/vma_map.h"

#include <algorithm>
#include <iterator>
#include <vector>

namespace cella::user {

bool Vma::continues(const Vma& previous) const {
  if (previous.end != start || previous.protection != protection || previous.shared != shared ||
      previous.anonymous != anonymous || previous.name != name) {
    return false;
  }
  if (anonymous) return true;
  return previous.device == device && previous.inode == inode &&
         previous.offset + previous.size() == offset;
}

const Vma* VmaMap::find(uint64_t address) const {
  auto it = areas_.upper_bound(address);
  if (it == areas_.begin()) return nullptr;
  --it;
  return address < it->second.end ? &it->second : nullptr;
}

bool VmaMap::covered(uint64_t start, uint64_t end) const {
  uint64_t next = start;
  while (next < end) {
    const Vma* vma = find(next);
    if (vma == nullptr) return false;
    next = vma->end;
  }
  return true;
}

bool VmaMap::overlaps(uint64_t start, uint64_t end) const {
  if (start >= end) return false;
  auto it = areas_.upper_bound(start);
  if (it != areas_.begin() && std::prev(it)->second.end > start) return true;
  return it != areas_.end() && it->first < end;
}

void VmaMap::split_at(uint64_t address) {
  auto it = areas_.upper_bound(address);
  if (it == areas_.begin()) return;
  --it;
  Vma& left = it->second;
  if (left.start >= address || left.end <= address) return;
  Vma right = left;
  right.start = address;
  if (!right.anonymous) right.offset += address - left.start;
  left.end = address;
  areas_.emplace(address, std::move(right));
}

void VmaMap::merge_around(uint64_t start, uint64_t end) {
  auto it = areas_.lower_bound(start);
  if (it != areas_.begin()) --it;
  while (it != areas_.end() && it->first <= end) {
    auto next = std::next(it);
    if (next != areas_.end() && next->second.continues(it->second)) {
      it->second.end = next->second.end;
      areas_.erase(next);
      continue;  // the grown area may continue into the following one too
    }
    it = next;
  }
}

void VmaMap::insert(Vma vma) {
  remove(vma.start, vma.end);
  const uint64_t start = vma.start, end = vma.end;
  areas_.emplace(start, std::move(vma));
  merge_around(start, end);
}

void VmaMap::remove(uint64_t start, uint64_t end) {
  if (start >= end) return;
  split_at(start);
  split_at(end);
  areas_.erase(areas_.lower_bound(start), areas_.lower_bound(end));
}

void VmaMap::protect(uint64_t start, uint64_t end, uint32_t protection) {
  if (start >= end) return;
  split_at(start);
  split_at(end);
  for (auto it = areas_.lower_bound(start); it != areas_.end() && it->first < end; ++it) {
    it->second.protection = protection;
  }
  merge_around(start, end);
}

void VmaMap::move(uint64_t start, uint64_t size, uint64_t to) {
  const uint64_t end = start + size;
  split_at(start);
  split_at(end);
  std::vector<Vma> moved;
  for (auto it = areas_.lower_bound(start); it != areas_.end() && it->first < end;) {
    moved.push_back(std::move(it->second));
    it = areas_.erase(it);
  }
  remove(to, to + size);
  for (Vma& vma : moved) {
    vma.start = vma.start - start + to;
    vma.end = vma.end - start + to;
    const uint64_t key = vma.start;
    areas_.emplace(key, std::move(vma));
  }
  merge_around(to, to + size);
}

std::optional<uint64_t> VmaMap::find_free(uint64_t size, uint64_t lower, uint64_t upper,
                                          bool top_down) const {
  if (size == 0 || upper <= lower || upper - lower < size) return std::nullopt;
  if (top_down) {
    uint64_t hole_end = upper;
    auto it = areas_.lower_bound(upper);
    while (it != areas_.begin()) {
      --it;
      const Vma& vma = it->second;
      if (vma.end < hole_end) {
        const uint64_t hole_start = std::max(vma.end, lower);
        if (hole_end > hole_start && hole_end - hole_start >= size) return hole_end - size;
      }
      hole_end = std::min(hole_end, vma.start);
      if (hole_end <= lower) return std::nullopt;
    }
    if (hole_end - lower >= size) return hole_end - size;
    return std::nullopt;
  }
  uint64_t hole_start = lower;
  auto it = areas_.upper_bound(lower);
  if (it != areas_.begin() && std::prev(it)->second.end > lower) {
    hole_start = std::prev(it)->second.end;
  }
  for (; it != areas_.end() && it->first < upper; ++it) {
    if (it->first >= hole_start && it->first - hole_start >= size) return hole_start;
    hole_start = std::max(hole_start, it->second.end);
  }
  if (upper > hole_start && upper - hole_start >= size) return hole_start;
  return std::nullopt;
}

}  // namespace cella::user
