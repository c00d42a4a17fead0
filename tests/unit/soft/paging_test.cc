// The guest page walker (SDM Vol. 3A 4.5-4.8): translations, access rights and #PF error codes,
// accessed/dirty flags, large pages, reserved bits, TLB invalidation, MMIO.
#include <gtest/gtest.h>

#include "engines/soft/memory.h"
#include "tests/unit/soft/system_machine.h"

namespace cella::soft::testing {
namespace {

using x86::pf_error::kInstructionFetch;
using x86::pf_error::kPresent;
using x86::pf_error::kReservedBit;
using x86::pf_error::kUser;
using x86::pf_error::kWrite;

constexpr uint64_t kLinear = 0x7f0000123000;  // mapped by each case
constexpr uint64_t kFrame = 0x500000;

struct Case {
  const char* name;
  uint64_t leaf;   // leaf entry flags
  uint64_t upper;  // flags of the PML4E, PDPTE and PDE
  bool user;       // CPL 3 access
  Access access;
  bool wp, nxe;
  int error;  // -1: no fault; else the #PF error code
};

// SDM Vol. 3A 4.6 (access rights) and 4.7 (error codes), case by case.
const Case kCases[] = {
    {"user read of a user page", kP | kU, kP | kW | kU, true, Access::kRead, true, true, -1},
    {"user read of a supervisor page", kP, kP | kW | kU, true, Access::kRead, true, true,
     kPresent | kUser},
    {"user read, supervisor PDE", kP | kU, kP | kW, true, Access::kRead, true, true,
     kPresent | kUser},
    {"user write of a read-only page", kP | kU, kP | kW | kU, true, Access::kWrite, false, true,
     kPresent | kWrite | kUser},
    {"user write, read-only upper level", kP | kW | kU, kP | kU, true, Access::kWrite, false, true,
     kPresent | kWrite | kUser},
    {"user write of a writable page", kP | kW | kU, kP | kW | kU, true, Access::kWrite, true, true,
     -1},
    {"supervisor write of read-only, WP=1", kP, kP | kW | kU, false, Access::kWrite, true, true,
     kPresent | kWrite},
    {"supervisor write of read-only, WP=0", kP, kP | kW | kU, false, Access::kWrite, false, true,
     -1},
    {"supervisor write of read-only user page, WP=0", kP | kU, kP | kU, false, Access::kWrite,
     false, true, -1},
    {"supervisor read of a user page", kP | kU, kP | kW | kU, false, Access::kRead, true, true, -1},
    {"supervisor fetch of a user page (no SMEP)", kP | kU, kP | kW | kU, false, Access::kFetch,
     true, true, -1},
    {"fetch of an XD page", kP | kU | kXd, kP | kW | kU, true, Access::kFetch, true, true,
     kPresent | kUser | kInstructionFetch},
    {"fetch, XD in an upper level", kP | kU, kP | kW | kU | kXd, false, Access::kFetch, true, true,
     kPresent | kInstructionFetch},
    {"read of an XD page", kP | kU | kXd, kP | kW | kU, true, Access::kRead, true, true, -1},
    {"XD with NXE=0 is reserved", kP | kU | kXd, kP | kW | kU, true, Access::kRead, true, false,
     kPresent | kUser | kReservedBit},
    {"not present, read", 0, kP | kW | kU, false, Access::kRead, true, true, 0},
    {"not present, user write", kW | kU, kP | kW | kU, true, Access::kWrite, true, true,
     kWrite | kUser},
    {"not present, fetch with NXE", 0, kP | kW | kU, false, Access::kFetch, true, true,
     kInstructionFetch},
    {"not present, fetch without NXE: no I/D", 0, kP | kW | kU, false, Access::kFetch, true, false,
     0},
    {"not present upper level", kP | kW | kU, kW | kU, true, Access::kRead, true, true, kUser},
    {"reserved physical-address bit", kP | (uint64_t{1} << 45), kP | kW | kU, false, Access::kWrite,
     true, true, kPresent | kWrite | kReservedBit},
};

class PagingCase : public ::testing::TestWithParam<Case> {};

TEST_P(PagingCase, RightsAndErrorCode) {
  const Case& c = GetParam();
  SystemMachine m;
  m.map(kLinear, kFrame, c.leaf, 1, c.upper);
  x86::ArchState s = m.cpu->state();
  if (!c.wp) s.cr0 &= ~x86::cr0::kWp;
  if (!c.nxe) s.efer &= ~x86::efer::kNxe;
  m.cpu->set_state(s);
  m.cpu->tlb.set_user(c.user);
  PageTranslation t;
  const bool ok = m.cpu->translate(kLinear + 0x10, c.access, t);
  if (c.error < 0) {
    ASSERT_TRUE(ok) << c.name << ": #PF " << m.cpu->fault.error_code;
    EXPECT_EQ(t.physical_page, kFrame) << c.name;
    EXPECT_EQ(t.host_page, m.memory.host_page(kFrame)) << c.name;
  } else {
    ASSERT_FALSE(ok) << c.name;
    EXPECT_EQ(m.cpu->fault.vector, x86::Vector::kPageFault) << c.name;
    EXPECT_EQ(m.cpu->fault.error_code, static_cast<uint32_t>(c.error)) << c.name;
    EXPECT_EQ(m.cpu->fault.address, kLinear + 0x10) << c.name;
    // A faulting walk sets no accessed flag.
    EXPECT_FALSE(m.read<uint64_t>(m.entry_address(kLinear, 4)) & pte::kAccessed) << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Soft, PagingCase, ::testing::ValuesIn(kCases));

TEST(Paging, AccessedAndDirtyFlags) {
  SystemMachine m;
  const uint64_t leaf = m.map(kLinear, kFrame, kP | kW);
  PageTranslation t;
  ASSERT_TRUE(m.cpu->translate(kLinear, Access::kRead, t));
  for (int level = 4; level >= 1; --level) {
    EXPECT_TRUE(m.read<uint64_t>(m.entry_address(kLinear, level)) & pte::kAccessed) << level;
  }
  EXPECT_FALSE(m.read<uint64_t>(leaf) & pte::kDirty);
  // A read does not cache write permission while D is clear: the first write walks again and
  // sets D.
  EXPECT_FALSE(t.writable);
  uint32_t value = 0x12345678;
  ASSERT_TRUE(write_memory(*m.cpu, kLinear + 8, value));
  EXPECT_TRUE(m.read<uint64_t>(leaf) & pte::kDirty);
  EXPECT_EQ(m.read<uint32_t>(kFrame + 8), value);
  // The dirty flag is set only in the entry that maps the page.
  EXPECT_FALSE(m.read<uint64_t>(m.entry_address(kLinear, 2)) & pte::kDirty);
}

TEST(Paging, LargePages) {
  SystemMachine m;
  m.map(0x40000000, 0x600000, kP | kW, 2);  // 2 MiB page at 1 GiB -> 6 MiB
  m.map(0x8000000000, 0, kP | kW, 3);       // 1 GiB page at 512 GiB -> 0
  PageTranslation t;
  ASSERT_TRUE(m.cpu->translate(0x40000000 + 0x12345, Access::kWrite, t));
  EXPECT_EQ(t.physical_page, 0x612000u);
  EXPECT_EQ(t.page_shift, 21);
  EXPECT_TRUE(m.read<uint64_t>(m.entry_address(0x40000000, 2)) & pte::kDirty);
  ASSERT_TRUE(m.cpu->translate(0x8000000000 + 0x345678, Access::kRead, t));
  EXPECT_EQ(t.physical_page, 0x345000u);
  EXPECT_EQ(t.page_shift, 30);
  // SDM Vol. 3A Table 4-18: bits 20:13 of a 2 MiB PDE are reserved.
  m.map(0x40200000, 0x600000 | (1u << 13), kP | kW, 2);
  ASSERT_FALSE(m.cpu->translate(0x40200000, Access::kRead, t));
  EXPECT_EQ(m.cpu->fault.error_code, kPresent | kReservedBit);
  // SDM Vol. 3A Table 4-15: PS in a PML4E is reserved.
  const uint64_t pml4e = m.entry_address(0x8000000000, 4);
  m.write(pml4e, m.read<uint64_t>(pml4e) | pte::kPageSize);
  m.cpu->tlb.flush_all();
  ASSERT_FALSE(m.cpu->translate(0x8000000000, Access::kRead, t));
  EXPECT_EQ(m.cpu->fault.error_code, kPresent | kReservedBit);
}

TEST(Paging, NonCanonicalIsGeneralProtection) {
  SystemMachine m;
  PageTranslation t;
  ASSERT_FALSE(m.cpu->translate(0x0000800000000000, Access::kRead, t));
  EXPECT_EQ(m.cpu->fault.vector, x86::Vector::kGeneralProtection);
}

// MOV CR3 drops non-global translations only; INVLPG drops one page, a global one too, and
// every 4 KiB piece of a large page whichever address inside it is named.
TEST(Paging, GlobalPagesSurviveCr3AndInvlpgFlushes) {
  SystemMachine m;
  constexpr uint64_t kGlobal = 0x7000000000, kLocal = 0x7000001000, kLarge = 0x7000200000;
  m.map(kGlobal, 0x500000, kP | kW | kG);
  m.map(kLocal, 0x501000, kP | kW);
  m.map(kLarge, 0x600000, kP | kW | kG, 2);
  m.write<uint64_t>(0x500000, 1);
  m.write<uint64_t>(0x501000, 2);
  m.write<uint64_t>(0x605000, 3);
  m.write<uint64_t>(0x502000, 11);
  m.write<uint64_t>(0x503000, 22);
  m.write<uint64_t>(0x405000, 33);
  Asm a;
  a.mov(a.rbx, kGlobal);
  a.mov(a.rcx, kLocal);
  a.mov(a.rdx, kLarge + 0x5000);
  auto load_all = [&] {
    a.mov(a.r8, a.ptr[a.rbx]);
    a.mov(a.r9, a.ptr[a.rcx]);
    a.mov(a.r10, a.ptr[a.rdx]);
  };
  load_all();
  a.hlt();
  a.mov(a.rax, 0);
  a.db(0x0f), a.db(0x20), a.db(0xd8);  // mov rax, cr3
  a.mov_cr3_rax();
  load_all();
  a.hlt();
  a.mov(a.rax, a.rbx);
  a.invlpg_rax();
  a.mov(a.rax, kLarge + 0x100000);  // another address in the large page
  a.invlpg_rax();
  load_all();
  a.hlt();
  m.load(kKernelCode, a);
  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->gpr[8], 1u);
  EXPECT_EQ(m.cpu->gpr[9], 2u);
  EXPECT_EQ(m.cpu->gpr[10], 3u);
  // Remap all three behind the TLB's back.
  m.map(kGlobal, 0x502000, kP | kW | kG);
  m.map(kLocal, 0x503000, kP | kW);
  m.map(kLarge, 0x400000, kP | kW | kG, 2);
  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->gpr[8], 1u) << "a global page survives MOV CR3";
  EXPECT_EQ(m.cpu->gpr[9], 22u) << "a non-global page does not";
  EXPECT_EQ(m.cpu->gpr[10], 3u) << "a global large page survives MOV CR3";
  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->gpr[8], 11u) << "INVLPG drops a global page";
  EXPECT_EQ(m.cpu->gpr[10], 33u) << "INVLPG anywhere in a large page drops its pieces";
}

// Physical pages outside RAM go to the platform's MMIO bus, split into aligned pieces; an
// instruction fetch from them leaves the run loop.
TEST(Paging, MmioAccessesReachThePlatform) {
  SystemMachine m;
  m.map(kMmio, kMmio, kP | kW);
  Asm a;
  a.mov(a.rbx, kMmio);
  a.mov(a.eax, a.dword[a.rbx + 0x30]);
  a.mov(a.qword[a.rbx + 0x84], a.rbx);  // misaligned: two 4-byte pieces
  a.lock();
  a.add(a.dword[a.rbx + 0x10], 1);  // read-modify-write: a read, then a write
  a.jmp(a.rbx);
  m.load(kKernelCode, a);
  ASSERT_EQ(m.cpu->run(), ExitReason::kMmioFetch);
  EXPECT_EQ(m.cpu->rip, kMmio);
  EXPECT_EQ(m.cpu->gpr[0], 0x55667788u);
  using A = TestPlatform::Access;
  const std::vector<A> expected = {
      {false, kMmio + 0x30, 4, 0x55667788}, {true, kMmio + 0x84, 4, kMmio & 0xffffffff},
      {true, kMmio + 0x88, 4, kMmio >> 32}, {false, kMmio + 0x10, 4, 0x55667788},
      {true, kMmio + 0x10, 4, 0x55667789},
  };
  EXPECT_EQ(m.platform.mmio, expected);
}

// A translation the kernel cached never answers a user access (the TLB banks).
TEST(Paging, SupervisorTranslationsDoNotServeUserMode) {
  SystemMachine m(false);
  constexpr uint64_t kSecret = 0x7000000000;
  m.map(kSecret, 0x500000, kP | kW);
  m.map(kUserCode, kUserCode, kP | kU);
  m.write<uint64_t>(0x500000, 0x5ec7e7);
  uint64_t value = 0;
  ASSERT_TRUE(read_memory(*m.cpu, kSecret, value));  // cached for CPL 0
  EXPECT_EQ(value, 0x5ec7e7u);
  Asm user;
  user.mov(user.rsi, kSecret);
  user.mov(user.rax, user.ptr[user.rsi]);
  m.load(kUserCode, user);
  // To CPL 3 without a flush, as SYSRET or IRETQ go.
  m.cpu->arch.seg(x86::Segment::kCs) = {kUserCs, 0, 0xffffffff, 0xa0fb};
  m.cpu->privilege_changed();
  m.cpu->rip = kUserCode;
  EXPECT_EQ(m.cpu->run(), ExitReason::kFault);
  EXPECT_EQ(m.cpu->fault.vector, x86::Vector::kPageFault);
  EXPECT_EQ(m.cpu->fault.error_code, kPresent | kUser);
  EXPECT_EQ(m.cpu->gpr[0], 0u);
}

// A store through another linear address of a code page invalidates the code decoded from it
// (decoded blocks are keyed by physical address).
TEST(Paging, StoreThroughAnAliasInvalidatesDecodedCode) {
  SystemMachine m;
  constexpr uint64_t kAlias = 0x7000000000;
  m.map(kAlias, kKernelCode, kP | kW);
  Asm a;
  Xbyak::Label target;
  a.mov(a.rbx, kAlias);
  a.call(target);
  a.mov(a.byte[a.rbx + 0x41], 0x02);  // the immediate of MOV EAX at +0x40
  a.call(target);
  a.hlt();
  a.align(64);
  a.L(target);  // +0x40
  a.mov(a.eax, 1);
  a.add(a.r8, a.rax);
  a.ret();
  m.load(kKernelCode, a);
  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->gpr[8], 3u);
  EXPECT_GE(m.code.invalidations(), 1u);
}

}  // namespace
}  // namespace cella::soft::testing
