// GuestMemory: the guest-physical address space of a machine as seen by its CPUs. RAM is a
// set of page-aligned, non-overlapping regions, each backed by its own anonymous host mapping
// (MAP_NORESERVE: host memory is committed only when the guest touches it). An address that
// is not in RAM is a hole, which the machine's MMIO bus answers: host_page() never gives a host
// pointer for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/result.h"

namespace cella::memory {

inline constexpr uint64_t kGuestPageSize = 4096;

struct RamRegion {
  uint64_t guest_physical = 0;  // first byte, page-aligned
  uint64_t size = 0;            // bytes, a multiple of the page size
  uint8_t* host = nullptr;      // host address of the first byte
};

class GuestMemory {
 public:
  GuestMemory() = default;
  ~GuestMemory();
  GuestMemory(GuestMemory&& other) noexcept;
  GuestMemory& operator=(GuestMemory&& other) noexcept;
  GuestMemory(const GuestMemory&) = delete;
  GuestMemory& operator=(const GuestMemory&) = delete;

  // Adds RAM at [guest_physical, guest_physical + size): both page-aligned, size nonzero,
  // inside the 52-bit physical address space (SDM Vol. 3A 4.1.4: MAXPHYADDR is at most 52),
  // and not overlapping existing RAM. Fresh RAM reads as zeros.
  Result<void> add_ram(uint64_t guest_physical, uint64_t size);

  // The host address of the page that contains `physical`, or nullptr when it is not RAM
  // (a hole: MMIO or nothing).
  uint8_t* host_page(uint64_t physical) const {
    const RamRegion* r = region_of(physical);
    return r == nullptr ? nullptr
                        : r->host + ((physical - r->guest_physical) & ~(kGuestPageSize - 1));
  }
  // The host address of [physical, physical + size) when all of it is RAM of one region,
  // else nullptr. For loaders and devices (DMA) that copy whole ranges.
  uint8_t* host_range(uint64_t physical, uint64_t size) const;
  bool is_ram(uint64_t physical) const { return region_of(physical) != nullptr; }

  // Copies between RAM and host buffers; an error names the first address that is not RAM.
  Result<void> read(uint64_t physical, std::span<uint8_t> out) const;
  Result<void> write(uint64_t physical, std::span<const uint8_t> in);

  std::span<const RamRegion> regions() const { return regions_; }
  uint64_t ram_size() const;

  // Device writes (DMA) that bypass the CPUs: a device that wrote guest RAM through a host
  // pointer calls note_dma_write(), which tells the observer (the machine invalidates the
  // software CPU's decoded code on those pages). One observer; an empty function removes it.
  using DmaWriteObserver = std::function<void(uint64_t physical, uint64_t size)>;
  void set_dma_write_observer(DmaWriteObserver observer) { dma_observer_ = std::move(observer); }
  void note_dma_write(uint64_t physical, uint64_t size) const {
    if (dma_observer_ && size != 0) dma_observer_(physical, size);
  }

 private:
  const RamRegion* region_of(uint64_t physical) const {
    // Machines have a handful of regions (below and above the 4 GiB hole); the CPU's TLB
    // caches the answer, so a linear scan is the fastest lookup.
    for (const RamRegion& r : regions_) {
      if (physical - r.guest_physical < r.size) return &r;
    }
    return nullptr;
  }
  void release();

  std::vector<RamRegion> regions_;  // sorted by guest_physical
  DmaWriteObserver dma_observer_;
};

}  // namespace cella::memory
