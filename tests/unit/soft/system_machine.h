// SystemMachine: a software CPU in a full machine for unit tests: guest-physical RAM, the
// guest page walker, and builders for page tables, GDT, IDT and TSS in guest memory, laid out
// as Linux lays them out (GDT selectors 0x10 kernel code, 0x18 kernel data, 0x2b user data,
// 0x33 user code, 0x40 TSS). Guest code is assembled with Xbyak (system instructions as db).
#pragma once

#include <gtest/gtest.h>

#include <xbyak/xbyak.h>
#include <cstring>
#include <map>
#include <vector>

#include "cpu/x86/control_registers.h"
#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "engines/soft/guest_page_walker.h"
#include "memory/guest_memory.h"

namespace cella::soft::testing {

// Physical (and, identity-mapped, kernel linear) layout.
inline constexpr uint64_t kGdt = 0x1000, kIdt = 0x2000, kTss = 0x3000;
inline constexpr uint64_t kTablesStart = 0x10000;
inline constexpr uint64_t kKernelCode = 0x100000, kUserCode = 0x200000;
inline constexpr uint64_t kKernelStackTop = 0x300000, kIstStackTop = 0x340000;
inline constexpr uint64_t kUserStackTop = 0x380000;
inline constexpr uint64_t kRamSize = 8 << 20;
inline constexpr uint64_t kMmio = 0xfee00000;  // not RAM
inline constexpr uint16_t kKernelCs = 0x10, kKernelDs = 0x18, kUserDs = 0x2b, kUserCs = 0x33,
                          kTssSelector = 0x40;

namespace pte = x86::pte;
inline constexpr uint64_t kP = pte::kPresent, kW = pte::kWritable, kU = pte::kUser,
                          kG = pte::kGlobal, kXd = pte::kExecuteDisable;

// Records port I/O, MMIO and platform MSR traffic.
class TestPlatform : public x86::Platform {
 public:
  struct Access {
    bool write;
    uint64_t address;
    unsigned size;
    uint64_t value;
    bool operator==(const Access&) const = default;
  };
  std::vector<Access> mmio, ports;
  std::map<uint32_t, uint64_t> msrs{{0x1b, 0xfee00900}};
  uint64_t mmio_read(uint64_t physical, unsigned size) override {
    const uint64_t value = 0x1122334455667788ull & (size == 8 ? ~0ull : (1ull << size * 8) - 1);
    mmio.push_back({false, physical, size, value});
    return value;
  }
  void mmio_write(uint64_t physical, unsigned size, uint64_t value) override {
    mmio.push_back({true, physical, size, value});
  }
  uint32_t port_read(uint16_t port, unsigned size) override {
    ports.push_back({false, port, size, 0x5a});
    return 0x5a;
  }
  void port_write(uint16_t port, unsigned size, uint32_t value) override {
    ports.push_back({true, port, size, value});
  }
  bool read_msr(uint32_t index, uint64_t& value) override {
    auto it = msrs.find(index);
    if (it == msrs.end()) return false;
    value = it->second;
    return true;
  }
  bool write_msr(uint32_t index, uint64_t value) override {
    if (!msrs.count(index)) return false;
    msrs[index] = value;
    return true;
  }
};

// A small assembler: Xbyak plus the system instructions it lacks.
struct Asm : Xbyak::CodeGenerator {
  Asm() : Xbyak::CodeGenerator(4096, Xbyak::DontSetProtectRWE) {}
  void bytes(std::initializer_list<uint8_t> b) {
    for (uint8_t x : b) db(x);
  }
  void swapgs() { bytes({0x0f, 0x01, 0xf8}); }
  void iretq() { bytes({0x48, 0xcf}); }
  void sysretq() { bytes({0x48, 0x0f, 0x07}); }
  void lretq() { bytes({0x48, 0xcb}); }
  void mov_cr3_rax() { bytes({0x0f, 0x22, 0xd8}); }
  void mov_rax_cr2() { bytes({0x0f, 0x20, 0xd0}); }
  void invlpg_rax() { bytes({0x0f, 0x01, 0x38}); }
  std::vector<uint8_t> code() const { return {getCode(), getCode() + getSize()}; }
};

class SystemMachine {
 public:
  explicit SystemMachine(bool deliver = true) {
    EXPECT_TRUE(memory.add_ram(0, kRamSize));
    environment.deliver_exceptions = deliver;
    environment.platform = &platform;
    cpu = std::make_unique<SoftCpu>(walker, code, cpuid, environment);
    pml4_ = alloc_table();
    // Kernel: identity map of the first 4 MiB, supervisor, writable.
    for (uint64_t a = 0; a < 0x400000; a += 0x1000) map(a, a, kP | kW);
    build_gdt();
    build_tss();
    x86::ArchState s;
    s.cr0 = x86::cr0::kPe | x86::cr0::kMp | x86::cr0::kEt | x86::cr0::kNe | x86::cr0::kWp |
            x86::cr0::kPg;
    s.cr3 = pml4_;
    s.cr4 = x86::cr4::kPae | x86::cr4::kPge | x86::cr4::kOsfxsr | x86::cr4::kOsxmmexcpt;
    s.efer = x86::efer::kSce | x86::efer::kLme | x86::efer::kLma | x86::efer::kNxe;
    s.gdtr = {kGdt, 0x4f};
    s.idtr = {kIdt, 0xfff};
    s.tr = {kTssSelector, kTss, 0x67, 0x8b};
    s.ldtr = {0, 0, 0, 0};
    s.seg(x86::Segment::kCs) = {kKernelCs, 0, 0xffffffff, 0xa09b};
    for (auto seg : {x86::Segment::kSs, x86::Segment::kDs, x86::Segment::kEs}) {
      s.seg(seg) = {kKernelDs, 0, 0xffffffff, 0xc093};
    }
    s.seg(x86::Segment::kFs) = s.seg(x86::Segment::kGs) = {0, 0, 0, 0};
    s.star = (uint64_t{0x23} << 48) | (uint64_t{kKernelCs} << 32);
    s.rip = kKernelCode;
    s.gpr[4] = kKernelStackTop;
    cpu->set_state(s);
  }

  uint8_t* host(uint64_t physical) { return memory.host_page(physical) + (physical & 0xfff); }
  template <class T>
  T read(uint64_t physical) {
    T v;
    std::memcpy(&v, host(physical), sizeof(T));
    return v;
  }
  template <class T>
  void write(uint64_t physical, T v) {
    std::memcpy(host(physical), &v, sizeof(T));
  }
  void load(uint64_t physical, const Asm& a) {
    const auto bytes = a.code();
    std::memcpy(host(physical), bytes.data(), bytes.size());
  }

  uint64_t alloc_table() {
    const uint64_t t = next_table_;
    next_table_ += 0x1000;
    std::memset(host(t), 0, 0x1000);
    return t;
  }
  // Maps `linear` to `physical` with leaf flags; `level` 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB.
  // Upper-level entries get `upper` (created if absent). Returns the leaf entry's address.
  uint64_t map(uint64_t linear, uint64_t physical, uint64_t flags, int level = 1,
               uint64_t upper = kP | kW | kU) {
    uint64_t table = pml4_;
    for (int l = 4; l > level; --l) {
      const uint64_t at = table + ((linear >> (12 + 9 * (l - 1))) & 511) * 8;
      uint64_t e = read<uint64_t>(at);
      if (!(e & kP))
        e = alloc_table() | upper;
      else
        e = (e & ~0xfffull & ~kXd) | upper;
      write(at, e);
      table = e & 0x000ffffffffff000ull & ~kXd;
    }
    const uint64_t at = table + ((linear >> (12 + 9 * (level - 1))) & 511) * 8;
    write(at, physical | flags | (level > 1 ? pte::kPageSize : 0));
    return at;
  }
  // The entry at `level` for `linear` (after map()).
  uint64_t entry_address(uint64_t linear, int level) {
    uint64_t table = pml4_;
    for (int l = 4; l > level; --l) {
      table = read<uint64_t>(table + ((linear >> (12 + 9 * (l - 1))) & 511) * 8) &
              0x000ffffffffff000ull;
    }
    return table + ((linear >> (12 + 9 * (level - 1))) & 511) * 8;
  }

  // SDM Vol. 3A 6.14.1, Figure 6-8: a 64-bit interrupt (type 14) or trap (15) gate.
  void set_gate(uint8_t vector, uint64_t handler, unsigned ist = 0, unsigned type = 14,
                unsigned dpl = 0, uint16_t selector = kKernelCs) {
    const uint64_t low = (handler & 0xffff) | (uint64_t{selector} << 16) | (uint64_t{ist} << 32) |
                         (uint64_t{type} << 40) | (uint64_t{dpl} << 45) | (uint64_t{1} << 47) |
                         ((handler & 0xffff0000) << 32);
    write(kIdt + vector * 16u, low);
    write(kIdt + vector * 16u + 8, handler >> 32);
  }
  void set_ist(unsigned ist, uint64_t top) { write(kTss + 36 + 8 * (ist - 1), top); }

  // Enters user mode state directly (CS 0x33, SS 0x2b).
  void enter_user(uint64_t rip, uint64_t rsp) {
    x86::ArchState s = cpu->state();
    s.seg(x86::Segment::kCs) = {kUserCs, 0, 0xffffffff, 0xa0fb};
    s.seg(x86::Segment::kSs) = {kUserDs, 0, 0xffffffff, 0xc0f3};
    s.rip = rip;
    s.gpr[4] = rsp;
    cpu->set_state(s);
  }

  memory::GuestMemory memory;
  GuestPageWalker walker{memory};
  CodeCache code;
  x86::CpuidPolicy cpuid = soft_cpuid_policy();
  TestPlatform platform;
  CpuEnvironment environment;
  std::unique_ptr<SoftCpu> cpu;

 private:
  void build_gdt() {
    // SDM Vol. 3A 3.4.5: flat descriptors; accessed bits set, as Linux sets them.
    write<uint64_t>(kGdt + 0x10, 0x00af9b000000ffff);  // kernel code: L, DPL 0
    write<uint64_t>(kGdt + 0x18, 0x00cf93000000ffff);  // kernel data
    write<uint64_t>(kGdt + 0x20, 0x00cffb000000ffff);  // user 32-bit code (unused)
    write<uint64_t>(kGdt + 0x28, 0x00cff3000000ffff);  // user data: DPL 3
    write<uint64_t>(kGdt + 0x30, 0x00affb000000ffff);  // user code: L, DPL 3
    // 64-bit TSS (type 11 busy, as after LTR), base kTss, limit 0x67.
    const uint64_t low =
        0x67 | ((kTss & 0xffffff) << 16) | (uint64_t{0x8b} << 40) | ((kTss >> 24) & 0xff) << 56;
    write<uint64_t>(kGdt + 0x40, low);
    write<uint64_t>(kGdt + 0x48, kTss >> 32);
  }
  void build_tss() {
    write<uint64_t>(kTss + 4, kKernelStackTop);  // RSP0
    write<uint16_t>(kTss + 102, 0x68);           // I/O map base: beyond the limit (no map)
  }

  uint64_t pml4_ = 0;
  uint64_t next_table_ = kTablesStart;
};

}  // namespace cella::soft::testing
