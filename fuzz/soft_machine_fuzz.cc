// Fuzzes the software CPU in a full machine: hostile kernel or user code with the guest page
// walker, descriptor tables, exception delivery, MMIO and port I/O. The input's first byte
// picks the privilege and a few system-state variations; the rest is code (and, through the
// identity map, the data it reaches). It must end with an exit or the budget, never a host
// crash, hang or out-of-range host access.
#include <cstdint>
#include <cstring>

#include "cpu/x86/control_registers.h"
#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "engines/soft/guest_page_walker.h"
#include "memory/guest_memory.h"

namespace {

using namespace cella;

constexpr uint64_t kRam = 4 << 20;
constexpr uint64_t kPml4 = 0x10000, kPdpt = 0x11000, kPd = 0x12000;
constexpr uint64_t kGdt = 0x1000, kIdt = 0x2000, kTss = 0x3000, kCode = 0x100000;

template <class T>
void put(memory::GuestMemory& m, uint64_t physical, T value) {
  std::memcpy(m.host_page(physical) + (physical & 0xfff), &value, sizeof(T));
}

// Identity map of the first 1 GiB with 2 MiB user pages (the MMIO hole above RAM included),
// a Linux-like GDT, a TSS with RSP0 and two IST stacks, and IDT gates into the code.
void build(memory::GuestMemory& m, uint8_t variant) {
  std::memset(m.host_page(0), 0, 0x200000);
  put<uint64_t>(m, kPml4, kPdpt | 7);
  put<uint64_t>(m, kPdpt, kPd | 7);
  for (uint64_t i = 0; i < 512; ++i) {
    const uint64_t nx = (variant & 8) && i == 1 ? x86::pte::kExecuteDisable : 0;
    put<uint64_t>(m, kPd + 8 * i, (i << 21) | 0x87 | nx);
  }
  put<uint64_t>(m, kGdt + 0x10, 0x00af9b000000ffff);
  put<uint64_t>(m, kGdt + 0x18, 0x00cf93000000ffff);
  put<uint64_t>(m, kGdt + 0x28, 0x00cff3000000ffff);
  put<uint64_t>(m, kGdt + 0x30, 0x00affb000000ffff);
  put<uint64_t>(m, kGdt + 0x40, 0x67 | (kTss << 16) | (uint64_t{0x8b} << 40));
  put<uint64_t>(m, kTss + 4, 0x300000);
  put<uint64_t>(m, kTss + 36, 0x340000);
  put<uint64_t>(m, kTss + 44, (variant & 16) ? 0x7fff0000 : 0x380000);  // IST2 maybe bad
  for (uint64_t v = 0; v < 256; ++v) {
    const uint64_t handler = kCode + (v * 37) % 0x1000;
    const uint64_t ist = v == 8 ? 1 : v == 2 ? 2 : 0;
    const uint64_t type = v < 32 ? 14 : 15;
    const uint64_t dpl = v >= 0x80 ? 3 : 0;
    put<uint64_t>(m, kIdt + 16 * v,
                  (handler & 0xffff) | (uint64_t{0x10} << 16) | (ist << 32) | (type << 40) |
                      (dpl << 45) | (uint64_t{1} << 47) | ((handler & 0xffff0000) << 32));
    put<uint64_t>(m, kIdt + 16 * v + 8, 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static memory::GuestMemory* memory = [] {
    auto* m = new memory::GuestMemory;
    if (!m->add_ram(0, kRam)) __builtin_trap();
    return m;
  }();
  static soft::GuestPageWalker walker(*memory);
  static x86::NullPlatform platform;
  static const x86::CpuidPolicy policy = soft::soft_cpuid_policy({.apic = true});
  if (size == 0) return 0;
  const uint8_t variant = data[0];
  build(*memory, variant);
  std::memset(memory->host_page(kCode), 0xf4, 0x2000);  // HLT after the code
  std::memcpy(memory->host_page(kCode), data + 1, std::min<size_t>(size - 1, 0x2000));

  soft::CodeCache code;
  soft::CpuEnvironment environment;
  environment.deliver_exceptions = true;
  environment.platform = &platform;
  soft::SoftCpu cpu(walker, code, policy, environment);
  x86::ArchState s;
  s.cr0 = 0x80050033 & ~((variant & 4) ? x86::cr0::kWp : 0);
  s.cr3 = kPml4;
  s.cr4 = x86::cr4::kPae | x86::cr4::kPge | x86::cr4::kOsfxsr;
  s.efer = x86::efer::kSce | x86::efer::kLme | x86::efer::kLma | x86::efer::kNxe;
  s.gdtr = {kGdt, 0x4f};
  s.idtr = {kIdt, 0xfff};
  s.tr = {0x40, kTss, 0x67, 0x8b};
  s.ldtr = {0, 0, 0, 0};
  const bool user = variant & 1;
  s.seg(x86::Segment::kCs) = {static_cast<uint16_t>(user ? 0x33 : 0x10), 0, 0xffffffff,
                              static_cast<uint16_t>(user ? 0xa0fb : 0xa09b)};
  s.seg(x86::Segment::kSs) = {static_cast<uint16_t>(user ? 0x2b : 0x18), 0, 0xffffffff,
                              static_cast<uint16_t>(user ? 0xc0f3 : 0xc093)};
  s.lstar = kCode + 0x800;
  s.star = (uint64_t{0x23} << 48) | (uint64_t{0x10} << 32);
  s.sfmask = 0x700;
  s.rflags = 0x2 | ((variant & 2) ? x86::rflags::kIf : 0);
  s.rip = kCode;
  for (int i = 0; i < 16; ++i) s.gpr[i] = 0x200000 + 0x1000 * i;
  cpu.set_state(s);
  for (int exits = 0; exits < 32; ++exits) {
    const soft::ExitReason reason = cpu.run(20000);
    if (reason == soft::ExitReason::kBudget || reason == soft::ExitReason::kTripleFault ||
        reason == soft::ExitReason::kMmioFetch || reason == soft::ExitReason::kUnsupported) {
      break;
    }
    if (reason == soft::ExitReason::kHalt || reason == soft::ExitReason::kInterruptWindow) {
      if (!cpu.deliver_interrupt(static_cast<uint8_t>(0x20 + exits))) cpu.deliver_nmi();
    }
  }
  return 0;
}
