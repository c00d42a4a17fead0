// Exception and interrupt delivery in IA-32e mode (SDM Vol. 3A 6.14, 6.15), SYSCALL/SYSRET and
// IRETQ, run as small guest kernels built in guest memory.
#include <gtest/gtest.h>

#include "tests/unit/soft/system_machine.h"

namespace cella::soft::testing {
namespace {

using x86::Vector;
constexpr uint64_t kHandler = kKernelCode + 0x800;
constexpr uint64_t kSecondHandler = kKernelCode + 0xc00;
constexpr uint64_t kMissing = 0x7f0000400000;  // page tables exist, the page is not present
constexpr uint64_t kFrame = 0x500000;

uint64_t frame_word(SystemMachine& m, int i) {
  return m.read<uint64_t>(m.cpu->gpr[4] + 8 * i);
}

// A #PF handler maps the missing page and returns with IRETQ; the load then completes.
TEST(Interrupts, PageFaultHandlerMapsThePageAndReturns) {
  SystemMachine m;
  const uint64_t leaf = m.map(kMissing, kFrame, 0);  // not present
  m.write<uint64_t>(kFrame + 0x18, 0xfeedface);
  m.set_gate(14, kHandler);
  Asm main;
  main.mov(main.rsi, kMissing + 0x18);
  main.mov(main.r8, main.ptr[main.rsi]);
  main.hlt();
  Asm handler;
  handler.mov(handler.r12, handler.ptr[handler.rsp]);  // error code
  handler.mov_rax_cr2();
  handler.mov(handler.r13, handler.rax);
  handler.mov(handler.rbx, leaf);
  handler.mov(handler.rcx, kFrame | kP | kW);
  handler.mov(handler.ptr[handler.rbx], handler.rcx);
  handler.add(handler.rsp, 8);
  handler.iretq();
  m.load(kKernelCode, main);
  m.load(kHandler, handler);
  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->gpr[8], 0xfeedfaceu);
  EXPECT_EQ(m.cpu->gpr[12], 0u);  // supervisor read of a not-present page
  EXPECT_EQ(m.cpu->gpr[13], kMissing + 0x18);
  EXPECT_EQ(m.cpu->arch.cr2, kMissing + 0x18);
  EXPECT_EQ(m.cpu->gpr[4], kKernelStackTop);
}

// From CPL 3 the handler runs on RSP0 with the full frame; IRETQ returns to user mode.
TEST(Interrupts, UserFaultSwitchesToRsp0AndIretqReturnsToUserMode) {
  SystemMachine m;
  m.map(kUserCode, kUserCode, kP | kU);
  m.map(kUserStackTop - 0x1000, kUserStackTop - 0x1000, kP | kW | kU);
  const uint64_t leaf = m.map(kMissing, kFrame, kU);  // not present
  m.set_gate(14, kHandler);
  Asm user;
  user.mov(user.rsi, kMissing);
  user.mov(user.qword[user.rsi], 7);  // user write: #PF, then retried
  user.mov(user.rax, user.qword[user.rsi]);
  user.ud2();
  m.load(kUserCode, user);
  Asm handler;
  handler.hlt();  // inspect the frame
  handler.mov(handler.rbx, leaf);
  handler.mov(handler.rcx, kFrame | kP | kW | kU);
  handler.mov(handler.ptr[handler.rbx], handler.rcx);
  handler.add(handler.rsp, 8);
  handler.iretq();
  m.load(kHandler, handler);
  m.set_gate(6, kSecondHandler);  // #UD: stop
  Asm stop;
  stop.hlt();
  m.load(kSecondHandler, stop);
  m.enter_user(kUserCode, kUserStackTop - 8);
  m.cpu->flags.set_rflags(m.cpu->flags.rflags() | x86::rflags::kIf);

  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->cpl(), 0);
  EXPECT_EQ(m.cpu->gpr[4], kKernelStackTop - 48);
  EXPECT_EQ(frame_word(m, 0), x86::pf_error::kWrite | x86::pf_error::kUser);
  EXPECT_EQ(frame_word(m, 1), kUserCode + 10);  // the faulting instruction
  EXPECT_EQ(frame_word(m, 2), kUserCs);
  EXPECT_TRUE(frame_word(m, 3) & x86::rflags::kIf);
  EXPECT_EQ(frame_word(m, 4), kUserStackTop - 8);
  EXPECT_EQ(frame_word(m, 5), kUserDs);
  EXPECT_FALSE(m.cpu->flags.rflags() & x86::rflags::kIf);     // interrupt gate
  EXPECT_EQ(m.cpu->arch.seg(x86::Segment::kSs).selector, 0);  // null SS, RPL 0

  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);  // back in user mode, then #UD
  EXPECT_EQ(m.cpu->gpr[0], 7u);
  EXPECT_EQ(frame_word(m, 1), kUserCs);  // #UD (no error code) came from user mode
  EXPECT_EQ(frame_word(m, 3), kUserStackTop - 8);
}

// SYSCALL enters the kernel at LSTAR with RFLAGS masked by FMASK; SWAPGS reaches the per-CPU
// area; SYSRET returns to CPL 3 with RCX/R11.
TEST(Interrupts, SyscallSysretRoundTrip) {
  SystemMachine m;
  m.map(kUserCode, kUserCode, kP | kU);
  m.map(kUserStackTop - 0x1000, kUserStackTop - 0x1000, kP | kW | kU);
  constexpr uint64_t kPerCpu = 0x4000;
  m.write<uint64_t>(kPerCpu + 0x10, 0x777);
  m.cpu->arch.kernel_gs_base = kPerCpu;
  m.cpu->arch.lstar = kHandler;
  m.cpu->arch.sfmask = x86::rflags::kIf | x86::rflags::kDf | x86::rflags::kTf;
  Asm kernel;
  kernel.swapgs();
  kernel.bytes({0x65, 0x4c, 0x8b, 0x3c, 0x25, 0x10, 0, 0, 0});  // mov r15, gs:[0x10]
  kernel.pushfq();
  kernel.pop(kernel.r14);
  kernel.add(kernel.rax, 1);
  kernel.swapgs();
  kernel.sysretq();
  m.load(kHandler, kernel);
  Asm user;
  user.mov(user.eax, 42);
  user.std();
  user.syscall();
  user.pushfq();
  user.pop(user.r13);
  user.ud2();
  m.load(kUserCode, user);
  m.set_gate(6, kSecondHandler);
  Asm stop;
  stop.hlt();
  m.load(kSecondHandler, stop);
  m.enter_user(kUserCode, kUserStackTop - 8);
  m.cpu->flags.set_rflags(m.cpu->flags.rflags() | x86::rflags::kIf);
  m.cpu->sync_segment_bases();

  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->gpr[15], 0x777u);
  EXPECT_EQ(m.cpu->gpr[0], 43u);
  EXPECT_EQ(m.cpu->gpr[1], kUserCode + 8);  // RCX: after SYSCALL
  EXPECT_TRUE(m.cpu->gpr[11] & x86::rflags::kIf);
  EXPECT_FALSE(m.cpu->gpr[14] & (x86::rflags::kIf | x86::rflags::kDf));  // masked in the kernel
  EXPECT_TRUE(m.cpu->gpr[13] & x86::rflags::kDf);                        // restored from R11
  EXPECT_EQ(frame_word(m, 1), kUserCs);                    // #UD after SYSRET came from user mode
  EXPECT_EQ(m.cpu->arch.seg(x86::Segment::kGs).base, 0u);  // swapped back
  EXPECT_EQ(m.cpu->arch.kernel_gs_base, kPerCpu);
}

// An IST gate switches stacks even without a privilege change; the new RSP is 16-byte aligned.
TEST(Interrupts, IstStackSwitchAndNmi) {
  SystemMachine m;
  m.set_gate(0x20, kHandler, 1);
  m.set_gate(2, kSecondHandler, 2);
  m.set_ist(1, kIstStackTop - 8);  // misaligned on purpose
  m.set_ist(2, kIstStackTop - 0x1000);
  Asm main;
  main.int_(0x20);
  Asm handler;
  handler.hlt();
  m.load(kKernelCode, main);
  m.load(kHandler, handler);
  m.load(kSecondHandler, handler);
  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->gpr[4], kIstStackTop - 16 - 40);
  EXPECT_EQ(frame_word(m, 0), kKernelCode + 2);  // INT n: the next instruction
  EXPECT_EQ(frame_word(m, 3), kKernelStackTop);

  EXPECT_TRUE(m.cpu->deliver_nmi());  // ignores IF
  EXPECT_EQ(m.cpu->rip, kSecondHandler);
  EXPECT_EQ(m.cpu->gpr[4], kIstStackTop - 0x1000 - 40);
  EXPECT_FALSE(m.cpu->deliver_nmi()) << "NMIs are blocked until IRET";
  EXPECT_EQ(m.cpu->state().interruptibility, 8u);
}

// SDM Vol. 3A Table 6-5: a #PF while delivering a #PF is a double fault; a fault while
// delivering #DF shuts the processor down.
TEST(Interrupts, PageFaultWhileDeliveringPageFaultIsDoubleFault) {
  SystemMachine m;
  m.map(kUserCode, kUserCode, kP | kU);
  m.set_gate(14, kHandler);
  m.set_gate(8, kSecondHandler, 1);
  m.set_ist(1, kIstStackTop);
  constexpr uint64_t kBadStack = 0x7e0000000000;  // not mapped
  m.write<uint64_t>(kTss + 4, kBadStack);         // RSP0
  Asm user;
  user.mov(user.rsi, kMissing);
  user.mov(user.rax, user.ptr[user.rsi]);
  m.load(kUserCode, user);
  Asm stop;
  stop.hlt();
  m.load(kSecondHandler, stop);
  m.enter_user(kUserCode, kUserStackTop - 8);
  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->rip, kSecondHandler + 1);
  EXPECT_EQ(frame_word(m, 0), 0u);  // #DF error code
  EXPECT_EQ(frame_word(m, 2), kUserCs);
  EXPECT_EQ(m.cpu->arch.cr2 & ~0xfffull, kBadStack - 0x1000);  // the second #PF's address

  // Now the #DF stack is bad too: triple fault.
  SystemMachine t;
  t.map(kUserCode, kUserCode, kP | kU);
  t.set_gate(14, kHandler);
  t.set_gate(8, kSecondHandler, 1);
  t.set_ist(1, kBadStack);
  t.write<uint64_t>(kTss + 4, kBadStack);
  t.load(kUserCode, user);
  t.enter_user(kUserCode, kUserStackTop - 8);
  EXPECT_EQ(t.cpu->run(), ExitReason::kTripleFault);
}

// Contributory then contributory: a #GP whose gate is not present (#NP) is a double fault;
// benign then contributory is handled serially.
TEST(Interrupts, ContributoryPairIsDoubleFaultBenignIsSerial) {
  SystemMachine m;
  m.set_gate(8, kSecondHandler);
  m.set_gate(11, kHandler);  // #NP handler
  Asm main;
  main.db(0x0f), main.db(0x0b);  // ud2: #UD, whose gate is absent -> #GP(6*8+2+1) -> ...
  m.load(kKernelCode, main);
  Asm stop;
  stop.hlt();
  m.load(kSecondHandler, stop);
  m.load(kHandler, stop);
  // IDT entries are zero (not present, type 0): #UD's gate type 0 raises #GP(IDT), benign then
  // contributory: serial; #GP's gate is also empty: #GP then #GP is a double fault.
  ASSERT_EQ(m.cpu->run(), ExitReason::kHalt);
  EXPECT_EQ(m.cpu->rip, kSecondHandler + 1);
  EXPECT_EQ(frame_word(m, 0), 0u);
}

// External interrupts wait for IF = 1 and for the STI shadow to pass.
TEST(Interrupts, ExternalInterruptsHonourIfAndTheStiShadow) {
  SystemMachine m;
  m.set_gate(0x30, kHandler);
  Asm main;
  main.sti();
  main.nop();
  main.hlt();
  Asm handler;
  handler.hlt();
  m.load(kKernelCode, main);
  m.load(kHandler, handler);
  EXPECT_FALSE(m.cpu->deliver_interrupt(0x30)) << "IF = 0";
  m.cpu->request_interrupt();
  EXPECT_EQ(m.cpu->run(1), ExitReason::kBudget);  // STI ends its block
  EXPECT_EQ(m.cpu->rip, kKernelCode + 1);
  EXPECT_FALSE(m.cpu->interruptible()) << "STI shadow";
  EXPECT_FALSE(m.cpu->deliver_interrupt(0x30));
  // The shadow is part of the architectural state (snapshots, engine switches).
  const x86::ArchState saved = m.cpu->state();
  EXPECT_EQ(saved.interruptibility, 1u);
  m.cpu->set_state(saved);
  EXPECT_FALSE(m.cpu->interruptible());
  EXPECT_EQ(m.cpu->run(), ExitReason::kHalt);  // the shadow passes with NOP
  EXPECT_EQ(m.cpu->run(), ExitReason::kInterruptWindow);
  EXPECT_TRUE(m.cpu->deliver_interrupt(0x30));
  EXPECT_EQ(m.cpu->rip, kHandler);
  EXPECT_EQ(frame_word(m, 0), kKernelCode + 3);  // after HLT
  EXPECT_FALSE(m.cpu->interruptible());          // interrupt gate cleared IF
}

}  // namespace
}  // namespace cella::soft::testing
