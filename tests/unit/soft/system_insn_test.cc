// System instructions: privilege checks, control registers, MSRs, port I/O, segment loads and
// far transfers (SDM Vol. 2A/2B, each instruction's page).
#include <gtest/gtest.h>

#include "cpu/x86/msrs.h"
#include "engines/soft/cpuid.h"
#include "tests/unit/soft/system_machine.h"

namespace cella::soft::testing {
namespace {

using x86::Vector;

struct Encoded {
  const char* name;
  std::vector<uint8_t> bytes;
};

// SDM Vol. 3A 5.9: every privileged instruction raises #GP(0) at CPL 3 and changes nothing.
TEST(SystemInsn, PrivilegedInstructionsRaiseGpAtCpl3) {
  const Encoded kPrivileged[] = {
      {"mov cr0, rax", {0x0f, 0x22, 0xc0}},
      {"mov rax, cr3", {0x0f, 0x20, 0xd8}},
      {"mov cr8, rax", {0x44, 0x0f, 0x22, 0xc0}},
      {"mov dr7, rax", {0x0f, 0x23, 0xf8}},
      {"mov rax, dr6", {0x0f, 0x21, 0xf0}},
      {"lgdt [rax]", {0x0f, 0x01, 0x10}},
      {"lidt [rax]", {0x0f, 0x01, 0x18}},
      {"lldt ax", {0x0f, 0x00, 0xd0}},
      {"ltr ax", {0x0f, 0x00, 0xd8}},
      {"lmsw ax", {0x0f, 0x01, 0xf0}},
      {"clts", {0x0f, 0x06}},
      {"invlpg [rax]", {0x0f, 0x01, 0x38}},
      {"invd", {0x0f, 0x08}},
      {"wbinvd", {0x0f, 0x09}},
      {"rdmsr", {0x0f, 0x32}},
      {"wrmsr", {0x0f, 0x30}},
      {"swapgs", {0x0f, 0x01, 0xf8}},
      {"hlt", {0xf4}},
      {"sysretq", {0x48, 0x0f, 0x07}},
      {"cli (IOPL 0)", {0xfa}},
      {"sti (IOPL 0)", {0xfb}},
      {"in al, dx (no I/O map)", {0xec}},
      {"out 0x80, al", {0xe6, 0x80}},
      {"rep outsb", {0xf3, 0x6e}},
  };
  for (const Encoded& e : kPrivileged) {
    SystemMachine m(false);
    m.map(kUserCode, kUserCode, kP | kW | kU);
    std::memcpy(m.host(kUserCode), e.bytes.data(), e.bytes.size());
    m.enter_user(kUserCode, kUserStackTop);
    m.cpu->gpr[0] = kUserCode;
    m.cpu->gpr[1] = 0x10;  // ECX for RDMSR/WRMSR: the TSC
    const x86::ArchState before = m.cpu->state();
    ASSERT_EQ(m.cpu->run(), ExitReason::kFault) << e.name;
    EXPECT_EQ(m.cpu->fault.vector, Vector::kGeneralProtection) << e.name;
    EXPECT_EQ(m.cpu->fault.error_code, 0u) << e.name;
    EXPECT_EQ(m.cpu->rip, kUserCode) << e.name;
    const x86::ArchState after = m.cpu->state();
    EXPECT_EQ(after.cr0, before.cr0) << e.name;
    EXPECT_EQ(after.gdtr.base, before.gdtr.base) << e.name;
    EXPECT_EQ(after.rflags, before.rflags) << e.name;
    EXPECT_TRUE(m.platform.ports.empty()) << e.name;
  }
}

// Runs `code` at CPL 0 without exception delivery; returns the exit.
ExitReason run_kernel(SystemMachine& m, const std::vector<uint8_t>& code) {
  std::vector<uint8_t> bytes = code;
  bytes.push_back(0xf4);  // hlt
  std::memcpy(m.host(kKernelCode), bytes.data(), bytes.size());
  m.code.invalidate_range(kKernelCode, bytes.size());  // written behind the CPU's back
  m.cpu->rip = kKernelCode;
  return m.cpu->run();
}

TEST(SystemInsn, ControlRegisterWritesAreChecked) {
  struct Write {
    const char* name;
    std::vector<uint8_t> code;  // mov crN, rax
    uint64_t value;
    bool faults;
  };
  const uint64_t cr0 = 0x80050033;
  const Write kWrites[] = {
      {"CR0 bit 32", {0x0f, 0x22, 0xc0}, cr0 | (uint64_t{1} << 32), true},
      {"CR0 without PG in long mode", {0x0f, 0x22, 0xc0}, cr0 & ~0x80000000ull, true},
      {"CR0 NW without CD", {0x0f, 0x22, 0xc0}, cr0 | (1u << 29), true},
      {"CR0 reserved bit 7 is ignored", {0x0f, 0x22, 0xc0}, cr0 | (1u << 7), false},
      {"CR4 VMXE (not advertised)", {0x0f, 0x22, 0xe0}, 0x2a0 | (1u << 13), true},
      {"CR4 OSXSAVE (not advertised)", {0x0f, 0x22, 0xe0}, 0x2a0 | (1u << 18), true},
      {"CR4 without PAE in long mode", {0x0f, 0x22, 0xe0}, 0x280, true},
      {"CR4 TSD", {0x0f, 0x22, 0xe0}, 0x2a4, false},
      {"CR3 beyond MAXPHYADDR", {0x0f, 0x22, 0xd8}, uint64_t{1} << 45, true},
      {"CR8 above 15", {0x44, 0x0f, 0x22, 0xc0}, 16, true},
      {"CR8", {0x44, 0x0f, 0x22, 0xc0}, 9, false},
  };
  for (const Write& w : kWrites) {
    SystemMachine m(false);
    m.cpu->gpr[0] = w.value;
    const ExitReason exit = run_kernel(m, w.code);
    if (w.faults) {
      ASSERT_EQ(exit, ExitReason::kFault) << w.name;
      EXPECT_EQ(m.cpu->fault.vector, Vector::kGeneralProtection) << w.name;
    } else {
      EXPECT_EQ(exit, ExitReason::kHalt) << w.name;
    }
  }
  SystemMachine m(false);
  m.cpu->gpr[0] = 0x80050033 | (1u << 7);
  ASSERT_EQ(run_kernel(m, {0x0f, 0x22, 0xc0, 0x0f, 0x20, 0xc1}), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->gpr[1], 0x80050033u) << "reserved bits read as zero, ET as one";
  // CR4.DE: DR4 is #UD; without it DR4 aliases DR6.
  m.cpu->arch.cr4 |= x86::cr4::kDe;
  m.cpu->rip = kKernelCode;
  EXPECT_EQ(run_kernel(m, {0x0f, 0x21, 0xe0}), ExitReason::kFault);
  EXPECT_EQ(m.cpu->fault.vector, Vector::kInvalidOpcode);
  m.cpu->arch.cr4 &= ~x86::cr4::kDe;
  m.cpu->rip = kKernelCode;
  ASSERT_EQ(run_kernel(m, {0x0f, 0x21, 0xe0}), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->gpr[0], 0xffff0ff0u);
}

TEST(SystemInsn, MsrTableSemantics) {
  SystemMachine m(false);
  x86::ArchState& s = m.cpu->arch;
  const x86::MsrContext context{&m.platform, &m.cpuid, 1000};
  uint64_t v = 0;
  EXPECT_FALSE(x86::read_msr(s, context, 0x12345678, v)) << "absent MSR";
  // EFER: SCE/LME/NXE writable, LMA read-only, reserved bits #GP, LME fixed while paging.
  EXPECT_FALSE(x86::write_msr(s, context, 0xc0000080, s.efer | (1u << 2)));
  EXPECT_FALSE(x86::write_msr(s, context, 0xc0000080, s.efer & ~x86::efer::kLme));
  ASSERT_TRUE(x86::write_msr(s, context, 0xc0000080, x86::efer::kLme | x86::efer::kSce));
  EXPECT_EQ(s.efer, x86::efer::kLme | x86::efer::kSce | x86::efer::kLma);
  // Addresses must be canonical.
  EXPECT_FALSE(x86::write_msr(s, context, 0xc0000082, 0x0000800000000000));
  ASSERT_TRUE(x86::write_msr(s, context, 0xc0000082, 0xffffffff81000000));
  EXPECT_EQ(s.lstar, 0xffffffff81000000u);
  // PAT: memory types 2, 3 and above 7 are reserved.
  EXPECT_FALSE(x86::write_msr(s, context, 0x277, 0x0007040600070402));
  EXPECT_FALSE(x86::write_msr(s, context, 0x277, 0x0807040600070406));
  ASSERT_TRUE(x86::write_msr(s, context, 0x277, 0x0007010600070106));
  // FMASK: bits 63:32 are reserved.
  EXPECT_FALSE(x86::write_msr(s, context, 0xc0000084, uint64_t{1} << 32));
  // The TSC: a write sets the offset from the time source.
  ASSERT_TRUE(x86::write_msr(s, context, 0x10, 5000));
  EXPECT_EQ(s.tsc_offset, 4000u);
  // MISC_ENABLE: only fast strings may change.
  EXPECT_FALSE(x86::write_msr(s, context, 0x1a0, s.misc_enable | (1u << 22)));
  ASSERT_TRUE(x86::write_msr(s, context, 0x1a0, s.misc_enable & ~1ull));
  // Platform MSRs reach the machine.
  ASSERT_TRUE(x86::read_msr(s, context, 0x1b, v));
  EXPECT_EQ(v, 0xfee00900u);
  EXPECT_FALSE(x86::read_msr(s, context, 0x6e0, v)) << "no TSC deadline in this platform";
  // The table is sorted and its ranges do not overlap.
  const auto table = x86::msr_table();
  for (size_t i = 1; i < table.size(); ++i) EXPECT_LT(table[i - 1].last, table[i].first);

  // Through the instructions: WRMSR to GS_BASE is what the CPU's segment base uses.
  m.cpu->gpr[1] = 0xc0000101;
  m.cpu->gpr[0] = 0x5000;
  m.cpu->gpr[2] = 0;
  m.write<uint64_t>(0x5008, 0xabcd);
  // wrmsr; mov rbx, gs:[8]; rdmsr of an absent MSR
  ASSERT_EQ(run_kernel(m, {0x0f, 0x30, 0x65, 0x48, 0x8b, 0x1c, 0x25, 8, 0, 0, 0}),
            ExitReason::kHalt);
  EXPECT_EQ(m.cpu->gpr[3], 0xabcdu);
  m.cpu->rip = kKernelCode;
  m.cpu->gpr[1] = 0x12345678;
  EXPECT_EQ(run_kernel(m, {0x0f, 0x32}), ExitReason::kFault);
  EXPECT_EQ(m.cpu->fault.vector, Vector::kGeneralProtection);
}

TEST(SystemInsn, PortIoAndTheIoPermissionBitmap) {
  SystemMachine m(false);
  m.cpu->gpr[0] = 0x41;
  m.cpu->gpr[2] = 0x3f8;
  // out 0x80, al; out dx, al; in al, dx; in eax, 0x71; REX.W in eax, dx (still 32-bit)
  ASSERT_EQ(run_kernel(m, {0xe6, 0x80, 0xee, 0xec, 0xe5, 0x71, 0x48, 0xed}), ExitReason::kHalt);
  using A = TestPlatform::Access;
  const std::vector<A> expected = {{true, 0x80, 1, 0x41},
                                   {true, 0x3f8, 1, 0x41},
                                   {false, 0x3f8, 1, 0x5a},
                                   {false, 0x71, 4, 0x5a},
                                   {false, 0x3f8, 4, 0x5a}};
  EXPECT_EQ(m.platform.ports, expected);

  // CPL 3 with an I/O map in the TSS: port 0x3f8-0x3ff allowed, 0x3f7 denied.
  m.write<uint16_t>(kTss + 102, 0x68);
  m.cpu->arch.tr.limit = 0x68 + 0x400 / 8;
  for (uint32_t b = 0; b < 0x400 / 8; ++b) m.write<uint8_t>(kTss + 0x68 + b, 0xff);
  m.write<uint8_t>(kTss + 0x68 + 0x3f8 / 8, 0x00);
  m.map(kUserCode, kUserCode, kP | kU);
  std::memcpy(m.host(kUserCode), std::array<uint8_t, 3>{0x66, 0xef, 0xec}.data(), 3);
  m.platform.ports.clear();
  m.enter_user(kUserCode, kUserStackTop);
  m.cpu->gpr[2] = 0x3fe;  // out dx, ax (0x3fe-0x3ff); in al, dx
  m.cpu->gpr[0] = 0x1234;
  EXPECT_EQ(m.cpu->run(2), ExitReason::kFault) << "in al, dx: the next ud byte";
  EXPECT_EQ(m.platform.ports.size(), 2u);
  m.enter_user(kUserCode, kUserStackTop);
  m.cpu->gpr[2] = 0x3f7;
  ASSERT_EQ(m.cpu->run(), ExitReason::kFault);
  EXPECT_EQ(m.cpu->fault.vector, Vector::kGeneralProtection);
  EXPECT_EQ(m.platform.ports.size(), 2u);
}

// MOV to segment registers: descriptor checks; LTR marks the TSS busy; LRETQ and far JMP
// through 64-bit code descriptors.
TEST(SystemInsn, SegmentLoadsAndFarTransfers) {
  SystemMachine m(false);
  // mov ax, 0x2b; mov ds, ax; mov ax, 0; mov fs, ax
  ASSERT_EQ(run_kernel(m, {0x66, 0xb8, 0x2b, 0, 0x8e, 0xd8, 0x66, 0xb8, 0, 0, 0x8e, 0xe0}),
            ExitReason::kHalt);
  EXPECT_EQ(m.cpu->arch.seg(x86::Segment::kDs).selector, kUserDs);
  EXPECT_EQ(m.cpu->arch.seg(x86::Segment::kDs).attributes & 0xff, 0xf3);
  EXPECT_EQ(m.cpu->arch.seg(x86::Segment::kFs).base, 0u);
  struct Bad {
    const char* name;
    uint16_t selector;
    bool ss;
    Vector vector;
    uint32_t error;
  };
  const Bad kBad[] = {
      {"SS with RPL 3 at CPL 0", kUserDs, true, Vector::kGeneralProtection, 0x28},
      {"SS = code", kKernelCs, true, Vector::kGeneralProtection, 0x10},
      {"SS = null at CPL 0 with RPL 0 is fine", 0, true, Vector::kDivideError, 0},
      {"DS beyond the GDT limit", 0x50, false, Vector::kGeneralProtection, 0x50},
      {"DS = TSS descriptor", kTssSelector, false, Vector::kGeneralProtection, 0x40},
  };
  for (const Bad& b : kBad) {
    SystemMachine t(false);
    t.cpu->gpr[0] = b.selector;
    const uint8_t modrm = b.ss ? 0xd0 : 0xd8;  // mov ss/ds, ax
    const ExitReason exit = run_kernel(t, {0x8e, modrm});
    if (b.vector == Vector::kDivideError) {
      EXPECT_EQ(exit, ExitReason::kHalt) << b.name;
      continue;
    }
    ASSERT_EQ(exit, ExitReason::kFault) << b.name;
    EXPECT_EQ(t.cpu->fault.vector, b.vector) << b.name;
    EXPECT_EQ(t.cpu->fault.error_code, b.error) << b.name;
  }
  // A not-present data segment: #NP(selector).
  SystemMachine np(false);
  np.write<uint64_t>(kGdt + 0x28, 0x00cf73000000ffff);
  np.cpu->gpr[0] = kUserDs;
  ASSERT_EQ(run_kernel(np, {0x8e, 0xd8}), ExitReason::kFault);
  EXPECT_EQ(np.cpu->fault.vector, Vector::kSegmentNotPresent);
  EXPECT_EQ(np.cpu->fault.error_code, 0x28u);

  // LTR: an available TSS becomes busy.
  SystemMachine l(false);
  l.write<uint8_t>(kGdt + 0x45, 0x89);
  l.cpu->gpr[0] = kTssSelector;
  ASSERT_EQ(run_kernel(l, {0x0f, 0x00, 0xd8}), ExitReason::kHalt);
  EXPECT_EQ(l.read<uint8_t>(kGdt + 0x45), 0x8b);
  EXPECT_EQ(l.cpu->arch.tr.base, kTss);
  EXPECT_EQ(l.cpu->arch.tr.limit, 0x67u);
  l.cpu->rip = kKernelCode;  // loading a busy TSS again: #GP(selector)
  ASSERT_EQ(run_kernel(l, {0x0f, 0x00, 0xd8}), ExitReason::kFault);
  EXPECT_EQ(l.cpu->fault.error_code, kTssSelector);

  // LTR of a TSS whose base 63:32 has bits 12:8 set (Linux's cpu_entry_area TSS at
  // 0xfffffe0000001000): only bits 12:8 of the fourth doubleword are reserved, not of the base.
  SystemMachine h(false);
  h.write<uint8_t>(kGdt + 0x45, 0x89);
  h.write<uint32_t>(kGdt + 0x48, 0xfffffe00);
  h.cpu->gpr[0] = kTssSelector;
  ASSERT_EQ(run_kernel(h, {0x0f, 0x00, 0xd8}), ExitReason::kHalt);
  EXPECT_EQ(h.cpu->arch.tr.base, 0xfffffe0000000000 | kTss);
  // ...while a nonzero type in that doubleword's bits 12:8 is #GP(selector).
  SystemMachine r(false);
  r.write<uint8_t>(kGdt + 0x45, 0x89);
  r.write<uint32_t>(kGdt + 0x4c, 0x00000900);
  r.cpu->gpr[0] = kTssSelector;
  ASSERT_EQ(run_kernel(r, {0x0f, 0x00, 0xd8}), ExitReason::kFault);
  EXPECT_EQ(r.cpu->fault.vector, Vector::kGeneralProtection);
  EXPECT_EQ(r.cpu->fault.error_code, kTssSelector);

  // pushq 0x10; pushq target; lretq; target: far jmp through memory to the next label.
  SystemMachine f(false);
  Asm a;
  Xbyak::Label target, pointer, done;
  a.push(kKernelCs);
  a.mov(a.rax, kKernelCode + 0x40);
  a.push(a.rax);
  a.lretq();
  a.L(target);
  a.nop();
  a.align(64);
  // at kKernelCode + 0x40
  a.mov(a.rbx, kKernelCode + 0x80);
  a.db(0x48), a.db(0xff), a.db(0x2b);  // jmp far [rbx] (m16:64)
  a.align(64);
  a.dq(kKernelCode + 0xc0);  // at + 0x80: offset, selector
  a.dw(kKernelCs);
  a.align(64);
  a.hlt();  // at + 0xc0
  f.load(kKernelCode, a);
  const uint64_t rsp = f.cpu->gpr[4];
  ASSERT_EQ(f.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(f.cpu->rip, kKernelCode + 0xc1);
  EXPECT_EQ(f.cpu->gpr[4], rsp);
  // LRETQ to a compatibility-mode segment is not modelled: a clear exit.
  f.cpu->rip = kKernelCode;
  f.write<uint64_t>(kGdt + 0x10, 0x00cf9b000000ffff);  // L = 0, D = 1
  EXPECT_EQ(f.cpu->run(), ExitReason::kUnsupported);
  EXPECT_NE(std::string(f.cpu->exit_detail).find("compatibility"), std::string::npos);
}

// LAR/LSL/VERR/VERW report in ZF instead of faulting (Linux's vDSO getcpu uses LSL, its MDS
// mitigation VERW).
TEST(SystemInsn, LarLslVerrVerw) {
  SystemMachine m(false);
  m.write<uint64_t>(kGdt + 0x58, 0x00c0f3000000a000);  // 0x58: user data, limit 0xa000 pages
  m.cpu->arch.gdtr.limit = 0x5f;
  m.map(kUserCode, kUserCode, kP | kU);
  // lsl eax, ecx; setz bl; lar edx, ecx; verw cx; setz bh; verr si; setz r8b
  const uint8_t code[] = {0x0f, 0x03, 0xc1, 0x0f, 0x94, 0xc3, 0x0f, 0x02, 0xd1, 0x0f, 0x00, 0xe9,
                          0x0f, 0x94, 0xc7, 0x0f, 0x00, 0xe6, 0x41, 0x0f, 0x94, 0xc0, 0x0f, 0x0b};
  std::memcpy(m.host(kUserCode), code, sizeof(code));
  m.enter_user(kUserCode, kUserStackTop);
  m.cpu->gpr[1] = 0x5b;       // the user data segment at RPL 3
  m.cpu->gpr[6] = kKernelCs;  // DPL 0: not visible at CPL 3
  ASSERT_EQ(m.cpu->run(), ExitReason::kFault);
  EXPECT_EQ(m.cpu->fault.vector, Vector::kInvalidOpcode);
  EXPECT_EQ(m.cpu->gpr[0], 0xa000fffu);
  EXPECT_EQ(m.cpu->gpr[3] & 0xffff, 0x0101u);  // LSL and VERW succeeded
  EXPECT_EQ(m.cpu->gpr[2], 0x00c0f300u);
  EXPECT_EQ(m.cpu->gpr[8] & 0xff, 0u);  // VERR of a DPL 0 segment at CPL 3 fails
}

}  // namespace
}  // namespace cella::soft::testing

namespace cella::soft::testing {
namespace {

// CPUID: the system features the engine implements, and device features only when the machine
// has the device (SDM Vol. 2A CPUID, Tables 3-10, 3-11; leaf 80000001h).
TEST(SystemInsn, CpuidAdvertisesTheSystemFeaturesImplemented) {
  const x86::CpuidPolicy plain = soft_cpuid_policy();
  const uint32_t edx = plain.query(1, 0).edx;
  for (int bit : {2, 3, 4, 5, 6, 13, 16})
    EXPECT_TRUE(edx & (1u << bit)) << bit;  // DE PSE TSC MSR PAE PGE PAT
  EXPECT_FALSE(edx & (1u << 9)) << "no APIC without one";
  EXPECT_FALSE(edx & (1u << 12)) << "no MTRRs";
  EXPECT_FALSE(plain.query(1, 0).ecx & (1u << 21)) << "no x2APIC";
  EXPECT_FALSE(plain.query(1, 0).ecx & (1u << 26)) << "no XSAVE";
  EXPECT_FALSE(plain.query(7, 0).ebx & ((1u << 7) | (1u << 20))) << "no SMEP, SMAP";
  const uint32_t ext = plain.query(0x80000001, 0).edx;
  for (int bit : {11, 20, 26, 27, 29})
    EXPECT_TRUE(ext & (1u << bit)) << bit;  // SYSCALL NX 1G RDTSCP LM
  const x86::CpuidPolicy machine =
      soft_cpuid_policy({.apic = true, .x2apic = true, .tsc_deadline = true});
  EXPECT_TRUE(machine.query(1, 0).edx & (1u << 9));
  EXPECT_TRUE(machine.query(1, 0).ecx & (1u << 21));
  EXPECT_TRUE(machine.query(1, 0).ecx & (1u << 24));
  // IA32_ARCH_CAPABILITIES is advertised and says RDCL_NO (no page-table isolation needed).
  EXPECT_TRUE(plain.query(7, 0).edx & (1u << 29));
  x86::ArchState state;
  uint64_t caps = 0;
  ASSERT_TRUE(x86::read_msr(state, {nullptr, &plain, 0}, 0x10a, caps));
  EXPECT_TRUE(caps & 1);
  EXPECT_FALSE(x86::write_msr(state, {nullptr, &plain, 0}, 0x10a, 0));
  // CR4 accepts exactly the advertised bits.
  EXPECT_EQ(x86::cr4_settable(plain) & (x86::cr4::kSmep | x86::cr4::kOsxsave), 0u);
  EXPECT_TRUE(x86::cr4_settable(plain) & x86::cr4::kPge);
}

}  // namespace
}  // namespace cella::soft::testing
