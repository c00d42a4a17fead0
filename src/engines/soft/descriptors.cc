#include "engines/soft/descriptors.h"

#include "engines/soft/memory.h"

namespace cella::soft {

using x86::Vector;

bool system_read(SoftCpu& cpu, uint64_t linear, void* data, size_t size) {
  return as_supervisor(cpu, [&] { return cpu.read_slow(linear, data, size); });
}

bool system_write(SoftCpu& cpu, uint64_t linear, const void* data, size_t size) {
  return as_supervisor(cpu, [&] { return cpu.write_slow(linear, data, size); });
}

static uint64_t descriptor_address(const SoftCpu& cpu, uint16_t selector) {
  const bool local = (selector & 4) != 0;  // TI (SDM Vol. 3A 3.4.2)
  return (local ? cpu.arch.ldtr.base : cpu.arch.gdtr.base) + (selector & ~7u);
}

bool read_descriptor(SoftCpu& cpu, uint16_t selector, uint64_t& low, uint64_t* high, uint32_t ext) {
  const bool local = (selector & 4) != 0;
  // SDM Vol. 3A 3.5.1: the descriptor's last byte must be within the table limit; an LDT
  // access needs a usable LDTR.
  const uint64_t limit = local ? cpu.arch.ldtr.limit : cpu.arch.gdtr.limit;
  const uint64_t last = (selector & ~7u) + (high != nullptr ? 15u : 7u);
  if ((local && !(cpu.arch.ldtr.attributes & attributes::kPresent)) || last > limit) {
    cpu.raise(Vector::kGeneralProtection, (selector & ~3u) | ext);
    return false;
  }
  uint64_t words[2];
  if (!system_read(cpu, descriptor_address(cpu, selector), words, high != nullptr ? 16 : 8)) {
    return false;
  }
  low = words[0];
  if (high != nullptr) *high = words[1];
  return true;
}

bool set_descriptor_bit(SoftCpu& cpu, uint16_t selector, uint64_t low, uint64_t bit) {
  if (low & bit) return true;
  const uint64_t linear = descriptor_address(cpu, selector);
  return as_supervisor(cpu, [&] {
    // SDM Vol. 3A 9.1.2.1: the processor updates the descriptor with a locked operation.
    return modify_memory<uint64_t>(cpu, linear, true, [&](uint64_t d) { return d | bit; });
  });
}

x86::SegmentRegister segment_from_descriptor(uint16_t selector, uint64_t low) {
  x86::SegmentRegister s;
  s.selector = selector;
  s.base = ((low >> 16) & 0xffffff) | ((low >> 32) & 0xff000000);
  uint32_t limit = static_cast<uint32_t>((low & 0xffff) | ((low >> 32) & 0xf0000));
  if (low & (uint64_t{1} << 55)) limit = (limit << 12) | 0xfff;  // G: 4 KiB granularity
  s.limit = limit;
  s.attributes = static_cast<uint16_t>((low >> 40) & 0xf0ff);
  return s;
}

x86::SegmentRegister system_segment_from_descriptor(uint16_t selector, uint64_t low,
                                                    uint64_t high) {
  x86::SegmentRegister s = segment_from_descriptor(selector, low);
  s.base |= (high & 0xffffffff) << 32;
  return s;
}

bool read_tss(SoftCpu& cpu, uint32_t offset, void* data, size_t size, uint32_t ext) {
  const x86::SegmentRegister& tr = cpu.arch.tr;
  if (!(tr.attributes & attributes::kPresent) || offset + size - 1 > tr.limit) {
    cpu.raise(Vector::kInvalidTss, (tr.selector & ~3u) | ext);
    return false;
  }
  return system_read(cpu, tr.base + offset, data, size);
}

}  // namespace cella::soft
