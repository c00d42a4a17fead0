// FlatMemory: a PageMapper over one host buffer mapped at a fixed guest linear address, with
// per-page permissions. Unit and differential tests run guest code in it.
#pragma once

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <vector>

#include "cpu/x86/exceptions.h"
#include "engines/soft/cpu.h"
#include "engines/soft/page_mapper.h"

namespace cella::testing {

class FlatMemory : public soft::PageMapper {
 public:
  struct Permissions {
    bool read = true, write = true, execute = true;
  };

  FlatMemory(uint64_t base, size_t size) : base_(base), size_(size), permissions_(size / 4096) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    host_ = static_cast<uint8_t*>(p);
  }
  ~FlatMemory() override { ::munmap(host_, size_); }
  FlatMemory(const FlatMemory&) = delete;
  FlatMemory& operator=(const FlatMemory&) = delete;

  uint64_t base() const { return base_; }
  size_t size() const { return size_; }
  uint8_t* host(uint64_t linear) { return host_ + (linear - base_); }
  void write(uint64_t linear, std::span<const uint8_t> bytes) {
    if (!bytes.empty()) std::memcpy(host(linear), bytes.data(), bytes.size());
  }
  void set_permissions(uint64_t linear, size_t length, Permissions p) {
    for (uint64_t page = (linear - base_) / 4096; page < (linear - base_ + length + 4095) / 4096;
         ++page) {
      permissions_[page] = p;
    }
  }

  bool translate(soft::SoftCpu& cpu, uint64_t linear, soft::Access access,
                 soft::PageTranslation& out) override {
    const uint64_t page = linear & ~uint64_t{4095};
    const bool inside = linear >= base_ && linear - base_ < size_;
    const Permissions p =
        inside ? permissions_[(page - base_) / 4096] : Permissions{false, false, false};
    const bool allowed = inside && p.read && (access != soft::Access::kWrite || p.write) &&
                         (access != soft::Access::kFetch || p.execute);
    if (!soft::is_canonical(linear)) {
      cpu.fault = x86::Fault{x86::Vector::kGeneralProtection, true, 0, 0};
      return false;
    }
    if (!allowed) {
      // SDM Vol. 3A 4.7: a user-mode access; present bit set if the page exists. The upper
      // half of the address space is the kernel's, mapped (supervisor-only) as on a Linux host.
      uint32_t code = x86::pf_error::kUser;
      if ((inside && p.read) || (linear >> 63) != 0) code |= x86::pf_error::kPresent;
      if (access == soft::Access::kWrite) code |= x86::pf_error::kWrite;
      if (access == soft::Access::kFetch) code |= x86::pf_error::kInstructionFetch;
      cpu.fault = x86::Fault{x86::Vector::kPageFault, true, code, linear};
      return false;
    }
    out.host_page = host_ + (page - base_);
    out.physical_page = page;
    out.writable = p.write;
    out.executable = p.execute;
    out.global = false;
    return true;
  }

 private:
  uint64_t base_;
  size_t size_;
  uint8_t* host_;
  std::vector<Permissions> permissions_;
};

}  // namespace cella::testing
