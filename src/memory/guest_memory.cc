#include "memory/guest_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

namespace cella::memory {

namespace {
constexpr uint64_t kPhysicalLimit = uint64_t{1} << 52;  // SDM Vol. 3A 4.1.4
}

GuestMemory::~GuestMemory() {
  release();
}

GuestMemory::GuestMemory(GuestMemory&& other) noexcept
    : regions_(std::move(other.regions_)), dma_observer_(std::move(other.dma_observer_)) {
  other.regions_.clear();
  other.dma_observer_ = nullptr;
}

GuestMemory& GuestMemory::operator=(GuestMemory&& other) noexcept {
  if (this != &other) {
    release();
    regions_ = std::move(other.regions_);
    other.regions_.clear();
    dma_observer_ = std::move(other.dma_observer_);
    other.dma_observer_ = nullptr;
  }
  return *this;
}

void GuestMemory::release() {
  for (const RamRegion& r : regions_) ::munmap(r.host, r.size);
  regions_.clear();
}

Result<void> GuestMemory::add_ram(uint64_t guest_physical, uint64_t size) {
  if (size == 0) return make_error("guest RAM at {:#x}: size is zero", guest_physical);
  if ((guest_physical | size) % kGuestPageSize != 0) {
    return make_error("guest RAM at {:#x} size {:#x}: not page-aligned", guest_physical, size);
  }
  if (guest_physical >= kPhysicalLimit || size > kPhysicalLimit - guest_physical) {
    return make_error("guest RAM at {:#x} size {:#x}: beyond the 52-bit physical address space",
                      guest_physical, size);
  }
  for (const RamRegion& r : regions_) {
    if (guest_physical < r.guest_physical + r.size && r.guest_physical < guest_physical + size) {
      return make_error("guest RAM at {:#x} size {:#x} overlaps RAM at {:#x} size {:#x}",
                        guest_physical, size, r.guest_physical, r.size);
    }
  }
  void* host = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (host == MAP_FAILED) return errno_error(fmt::format("mapping {:#x} bytes of guest RAM", size));
  const RamRegion region{guest_physical, size, static_cast<uint8_t*>(host)};
  regions_.insert(std::upper_bound(regions_.begin(), regions_.end(), region,
                                   [](const RamRegion& a, const RamRegion& b) {
                                     return a.guest_physical < b.guest_physical;
                                   }),
                  region);
  return ok();
}

uint8_t* GuestMemory::host_range(uint64_t physical, uint64_t size) const {
  const RamRegion* r = region_of(physical);
  if (r == nullptr) return nullptr;
  const uint64_t offset = physical - r->guest_physical;
  if (size > r->size - offset) return nullptr;
  return r->host + offset;
}

Result<void> GuestMemory::read(uint64_t physical, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    const RamRegion* r = region_of(physical + done);
    if (r == nullptr) return make_error("guest physical {:#x} is not RAM", physical + done);
    const uint64_t offset = physical + done - r->guest_physical;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size() - done, r->size - offset));
    std::memcpy(out.data() + done, r->host + offset, n);
    done += n;
  }
  return ok();
}

Result<void> GuestMemory::write(uint64_t physical, std::span<const uint8_t> in) {
  // Check the whole range first, so an error writes nothing.
  for (size_t done = 0; done < in.size();) {
    const RamRegion* r = region_of(physical + done);
    if (r == nullptr) return make_error("guest physical {:#x} is not RAM", physical + done);
    done += static_cast<size_t>(
        std::min<uint64_t>(in.size() - done, r->size - (physical + done - r->guest_physical)));
  }
  size_t done = 0;
  while (done < in.size()) {
    const RamRegion* r = region_of(physical + done);
    const uint64_t offset = physical + done - r->guest_physical;
    const size_t n = static_cast<size_t>(std::min<uint64_t>(in.size() - done, r->size - offset));
    std::memcpy(r->host + offset, in.data() + done, n);
    done += n;
  }
  return ok();
}

uint64_t GuestMemory::ram_size() const {
  uint64_t total = 0;
  for (const RamRegion& r : regions_) total += r.size;
  return total;
}

}  // namespace cella::memory
