#include "engines/soft/cpu.h"

#include <algorithm>
#include <cstring>

#include <x86intrin.h>

namespace cella::soft {

SoftCpu::SoftCpu(PageMapper& page_mapper, CodeCache& code_cache, const x86::CpuidPolicy& policy,
                 CpuEnvironment env)
    : mapper(page_mapper), code(code_cache), cpuid(policy), environment(env) {
  static x86::NullPlatform null_platform;
  platform_ = env.platform != nullptr ? env.platform : &null_platform;
  set_state(arch);
}

uint64_t SoftCpu::time_source() const {
  if (environment.read_tsc != nullptr) return environment.read_tsc(environment.context);
  return __rdtsc();
}

void SoftCpu::sync_segment_bases() {
  // SDM Vol. 3A 3.4.4: in 64-bit mode ES, CS, SS and DS have base 0; FS and GS keep theirs.
  for (int i = 0; i < x86::kSegmentCount; ++i) segment_base[i] = 0;
  segment_base[static_cast<int>(x86::Segment::kFs)] = arch.seg(x86::Segment::kFs).base;
  segment_base[static_cast<int>(x86::Segment::kGs)] = arch.seg(x86::Segment::kGs).base;
}

x86::ArchState SoftCpu::state() const {
  x86::ArchState s = arch;
  std::copy(gpr, gpr + x86::kGprCount, s.gpr.begin());
  s.rip = rip;
  s.rflags = flags.rflags();
  s.interruptibility = (interrupt_shadow && rip == shadow_rip ? 1u : 0u) | (nmi_blocked ? 8u : 0u);
  return s;
}

void SoftCpu::set_state(const x86::ArchState& s) {
  arch = s;
  std::copy(s.gpr.begin(), s.gpr.end(), gpr);
  gpr[kNoRegister] = 0;
  rip = s.rip;
  flags.set_rflags(s.rflags);
  interrupt_shadow = (s.interruptibility & 3) != 0;
  shadow_rip = s.rip;
  nmi_blocked = (s.interruptibility & 8) != 0;
  sync_segment_bases();
  tlb.flush_all();
  privilege_changed();
}

bool SoftCpu::fill(uint64_t linear, Access access, PageTranslation& out) {
  if (!mapper.translate(*this, linear, access, out)) return false;
  if (out.host_page == nullptr) return true;  // MMIO: never cached, every access asks again
  const uint64_t page = linear & ~kPageOffsetMask;
  // A store into decoded code invalidates that code first; the page then has none.
  if (access == Access::kWrite && code.has_code(out.physical_page)) {
    code.invalidate_page(out.physical_page);
  }
  TlbEntry& e = tlb.entry_to_fill(linear, out.page_shift, out.global);
  e.read_tag = page;
  e.write_tag = out.writable && !code.has_code(out.physical_page) ? page : TlbEntry::kInvalidTag;
  e.fetch_tag = out.executable ? page : TlbEntry::kInvalidTag;
  e.host_minus_linear = reinterpret_cast<uint64_t>(out.host_page) - page;
  e.physical_page = out.physical_page;
  e.global = out.global;
  e.page_shift = out.page_shift;
  return true;
}

bool SoftCpu::translate(uint64_t linear, Access access, PageTranslation& out) {
  const TlbEntry& e = tlb.entry(linear);
  const uint64_t page = linear & ~kPageOffsetMask;
  const uint64_t tag = access == Access::kRead    ? e.read_tag
                       : access == Access::kWrite ? e.write_tag
                                                  : e.fetch_tag;
  if (tag == page) {
    out.host_page = reinterpret_cast<uint8_t*>(page + e.host_minus_linear);
    out.physical_page = e.physical_page;
    out.writable = e.write_tag == page;
    out.executable = e.fetch_tag == page;
    out.global = e.global;
    out.page_shift = e.page_shift;
    return true;
  }
  return fill(linear, access, out);
}

bool SoftCpu::read_slow(uint64_t linear, void* data, size_t size) {
  auto* out = static_cast<uint8_t*>(data);
  while (size > 0) {
    PageTranslation page;
    if (!translate(linear, Access::kRead, page)) return false;
    const size_t offset = linear & kPageOffsetMask;
    const size_t n = std::min<size_t>(size, kPageSize - offset);
    if (page.host_page != nullptr) [[likely]] {
      std::memcpy(out, page.host_page + offset, n);
    } else {
      mmio_read(page.physical_page + offset, out, n);
    }
    out += n;
    linear += n;
    size -= n;
  }
  return true;
}

bool SoftCpu::write_slow(uint64_t linear, const void* data, size_t size) {
  if (size == 0) return true;
  // Check every page before writing any byte, so a fault leaves memory untouched.
  const uint64_t last = linear + size - 1;
  for (uint64_t page = linear & ~kPageOffsetMask;; page += kPageSize) {
    PageTranslation t;
    if (!translate(std::max(page, linear), Access::kWrite, t)) return false;
    if (page == (last & ~kPageOffsetMask)) break;
  }
  const auto* in = static_cast<const uint8_t*>(data);
  while (size > 0) {
    PageTranslation page;
    if (!translate(linear, Access::kWrite, page)) return false;
    const size_t offset = linear & kPageOffsetMask;
    const size_t n = std::min<size_t>(size, kPageSize - offset);
    if (page.host_page != nullptr) [[likely]] {
      std::memcpy(page.host_page + offset, in, n);
    } else {
      mmio_write(page.physical_page + offset, in, n);
    }
    in += n;
    linear += n;
    size -= n;
  }
  return true;
}

// MMIO accesses are split into naturally aligned pieces of at most 8 bytes (x86::Platform).
static size_t mmio_piece(uint64_t physical, size_t size) {
  size_t n = 8;
  while (n > size || (physical & (n - 1)) != 0) n /= 2;
  return n;
}

void SoftCpu::mmio_read(uint64_t physical, uint8_t* data, size_t size) {
  while (size > 0) {
    const size_t n = mmio_piece(physical, size);
    const uint64_t value = platform_->mmio_read(physical, static_cast<unsigned>(n));
    std::memcpy(data, &value, n);
    physical += n;
    data += n;
    size -= n;
  }
}

void SoftCpu::mmio_write(uint64_t physical, const uint8_t* data, size_t size) {
  while (size > 0) {
    const size_t n = mmio_piece(physical, size);
    uint64_t value = 0;
    std::memcpy(&value, data, n);
    platform_->mmio_write(physical, static_cast<unsigned>(n), value);
    physical += n;
    data += n;
    size -= n;
  }
}

}  // namespace cella::soft
