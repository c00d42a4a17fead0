// VmaMap: the guest's virtual memory areas, as Linux keeps them (mm/mmap.c): disjoint,
// page-aligned ranges with the protection and backing the guest asked for. It is pure
// bookkeeping (no host calls), so placement, splitting and merging are unit-tested on their own;
// AddressSpace keeps the host mappings in step with it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace cella::user {

// Guest protection bits, the values of PROT_READ/PROT_WRITE/PROT_EXEC.
namespace prot {
inline constexpr uint32_t kRead = 1;
inline constexpr uint32_t kWrite = 2;
inline constexpr uint32_t kExec = 4;
}  // namespace prot

struct Vma {
  uint64_t start = 0;  // page-aligned
  uint64_t end = 0;    // page-aligned, exclusive
  uint32_t protection = 0;
  bool shared = false;    // MAP_SHARED
  bool anonymous = true;  // no file behind it
  uint64_t offset = 0;    // file offset of `start`
  uint64_t device = 0;    // file identity, for merging and /proc/self/maps
  uint64_t inode = 0;
  std::string name;  // file path, "[heap]", "[stack]" or empty

  uint64_t size() const { return end - start; }
  // Two areas that touch and have the same attributes become one (mm/mmap.c vma_merge).
  bool continues(const Vma& previous) const;
};

class VmaMap {
 public:
  using Map = std::map<uint64_t, Vma>;

  // The area containing `address`, or null.
  const Vma* find(uint64_t address) const;
  // Whether [start, end) is mapped without holes.
  bool covered(uint64_t start, uint64_t end) const;
  // Whether any page of [start, end) is mapped.
  bool overlaps(uint64_t start, uint64_t end) const;

  // Maps `vma`, replacing whatever overlapped it.
  void insert(Vma vma);
  // Unmaps [start, end); areas straddling an edge are split.
  void remove(uint64_t start, uint64_t end);
  // Sets the protection of every mapped page of [start, end).
  void protect(uint64_t start, uint64_t end, uint32_t protection);
  // Moves the areas of [start, start + size) to `to` (mremap).
  void move(uint64_t start, uint64_t size, uint64_t to);

  // The highest (top_down) or lowest free range of `size` bytes inside [lower, upper), or
  // nothing. Mirrors Linux's top-down mmap placement below the stack.
  std::optional<uint64_t> find_free(uint64_t size, uint64_t lower, uint64_t upper,
                                    bool top_down = true) const;

  const Map& areas() const { return areas_; }
  size_t count() const { return areas_.size(); }

 private:
  void split_at(uint64_t address);
  void merge_around(uint64_t start, uint64_t end);

  Map areas_;  // keyed by start
};

}  // namespace cella::user
