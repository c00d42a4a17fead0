// The translator against the interpreter: each program (assembled inline with Xbyak) runs
// once interpreted only, once with every block translated at its first run, and once with
// blocks translated after a few interpreted runs (the two tiers interleaving), and every
// outcome must be identical: registers, RIP, RFLAGS, memory, the retired count and the fault.
// (The differential test compares translated single instructions with the host processor:
// tests/CMakeLists.txt runs it with CELLA_TRANSLATE=always.)
#include <gtest/gtest.h>
#include <xbyak/xbyak.h>

#include <functional>
#include <thread>
#include <vector>

#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "tests/support/flat_memory.h"

namespace cella::soft {
namespace {

using namespace Xbyak::util;

constexpr uint64_t kBase = 0x400000;
constexpr uint64_t kSize = 64 * 4096;
constexpr uint64_t kData = kBase + 32 * 4096;  // RBX points here: four writable pages
constexpr uint64_t kHole = kBase + 40 * 4096;  // neither readable nor writable
constexpr uint64_t kStackTop = kBase + kSize - 64;

struct Program : Xbyak::CodeGenerator {
  Program() : Xbyak::CodeGenerator(32 * 4096, Xbyak::DontSetProtectRWE) {}
  std::vector<uint8_t> bytes() const { return {getCode(), getCode() + getSize()}; }
};

struct Outcome {
  ExitReason reason{};
  x86::ArchState state;
  x86::Fault fault;
  uint64_t retired = 0;
  std::vector<uint8_t> data;
  uint64_t flushes = 0;
  uint64_t translated = 0;
  uint64_t dispatches = 0;  // blocks started by the run loop
};

struct Options {
  uint64_t base = kBase;
  uint64_t budget = 1'000'000;
  std::function<void(SoftCpu&)> setup;
};

Outcome run(const std::vector<uint8_t>& code, TranslationPolicy policy, const Options& options) {
  testing::FlatMemory memory(options.base, kSize);
  memory.write(options.base, code);
  const uint64_t data = options.base + (kData - kBase);
  const uint64_t hole = options.base + (kHole - kBase);
  for (uint64_t i = 0; i < 4 * 4096; ++i) *memory.host(data + i) = static_cast<uint8_t>(i * 7);
  memory.set_permissions(hole, 4096, {false, false, false});
  const x86::CpuidPolicy cpuid = soft_cpuid_policy();
  CodeCache cache(policy);
  SoftCpu cpu(memory, cache, cpuid);
  cpu.rip = options.base;
  cpu.gpr[4] = options.base + (kStackTop - kBase);
  cpu.gpr[3] = data;
  if (options.setup) options.setup(cpu);
  Outcome out;
  out.reason = cpu.run(options.budget);
  out.state = cpu.state();
  out.fault = cpu.fault;
  out.retired = cpu.retired;
  out.data.assign(memory.host(data), memory.host(data) + 4 * 4096);
  out.flushes = cache.translation_flushes();
  out.translated = cache.translated_blocks();
  out.dispatches = cpu.dispatches;
  return out;
}

constexpr TranslationPolicy kInterpret{.enabled = false};
constexpr TranslationPolicy kTranslateAtOnce{.enabled = true, .after_runs = 0};
constexpr TranslationPolicy kTranslateWhenHot{.enabled = true, .after_runs = 3};

void expect_same(const Outcome& expected, const Outcome& actual, const char* tier) {
  SCOPED_TRACE(tier);
  EXPECT_EQ(actual.reason, expected.reason);
  for (int i = 0; i < x86::kGprCount; ++i)
    EXPECT_EQ(actual.state.gpr[i], expected.state.gpr[i]) << "gpr " << i;
  EXPECT_EQ(actual.state.rip, expected.state.rip);
  EXPECT_EQ(actual.state.rflags, expected.state.rflags);
  EXPECT_EQ(actual.retired, expected.retired);
  EXPECT_EQ(actual.fault.vector, expected.fault.vector);
  EXPECT_EQ(actual.fault.error_code, expected.fault.error_code);
  EXPECT_EQ(actual.fault.address, expected.fault.address);
  EXPECT_TRUE(actual.data == expected.data) << "data pages differ";
}

// Runs the program in the three tiers and compares; returns the interpreter's outcome.
Outcome run_everywhere(const std::vector<uint8_t>& code, const Options& options = {},
                       TranslationPolicy at_once = kTranslateAtOnce) {
  const Outcome interpreted = run(code, kInterpret, options);
  const Outcome translated = run(code, at_once, options);
  EXPECT_GT(translated.translated, 0u) << "nothing was translated";
  expect_same(interpreted, translated, "translated at once");
  expect_same(interpreted, run(code, kTranslateWhenHot, options), "translated when hot");
  return interpreted;
}

// Every condition code after every inline flag producer, and after instructions whose flags
// the translated code takes from the lazy state (INC, DEC, NEG, shifts, IMUL): SETcc writes
// each answer to memory.
TEST(Translator, EveryConditionAfterEveryFlagProducer) {
  Program p;
  const uint64_t operands[][2] = {{0, 0},
                                  {1, 1},
                                  {0x7fffffffffffffff, 1},
                                  {0x8000000000000000, 0x8000000000000000},
                                  {0xffffffff, 1},
                                  {0x80, 0x7f},
                                  {5, 0xfffffffffffffffb},
                                  {0x1234, 3}};
  using Op = std::function<void(Program&)>;
  const Op ops[] = {
      [](Program& g) { g.add(rax, rcx); },
      [](Program& g) { g.sub(rax, rcx); },
      [](Program& g) { g.cmp(eax, ecx); },
      [](Program& g) { g.and_(ax, cx); },
      [](Program& g) { g.or_(al, cl); },
      [](Program& g) { g.xor_(rax, rcx); },
      [](Program& g) { g.test(al, cl); },
      [](Program& g) { g.adc(rax, rcx); },
      [](Program& g) { g.sbb(eax, ecx); },
      [](Program& g) { g.add(eax, 0x7f); },
      [](Program& g) { g.cmp(rax, -1); },
      [](Program& g) { g.shl(rax, 1); },
      [](Program& g) { g.shr(eax, 3); },
      [](Program& g) { g.sar(cx, 15); },
      [](Program& g) { g.imul(rax, rcx); },
      [](Program& g) { g.imul(eax, ecx, 3); },
      [](Program& g) { g.inc(rax); },
      [](Program& g) { g.dec(cl); },
      [](Program& g) { g.neg(rax); },
      [](Program& g) { g.cmp(rax, ptr[rbx]); },
      [](Program& g) { g.sub(rcx, ptr[rbx + 8]); },
  };
  int slot = 0;
  for (const auto& [a, b] : operands) {
    for (const Op& op : ops) {
      p.mov(rax, a);
      p.mov(rcx, b);
      p.stc();  // a carry in for ADC/SBB, preserved by INC/DEC
      op(p);
      // The first SETcc may use the host flags directly, the rest read them again.
      for (int cc = 0; cc < 16; ++cc) {  // SETcc byte [rbx + slot] (0F 90+cc /0, disp32)
        p.db(0x0f);
        p.db(0x90 + cc);
        p.db(0x83);
        p.dd(slot++);
      }
      p.mov(ptr[rbx + 4096 + (slot % 512) * 8], rax);  // the result too
    }
  }
  p.ud2();
  const Outcome out = run_everywhere(p.bytes());
  EXPECT_EQ(out.fault.vector, x86::Vector::kInvalidOpcode);
}

// A multi-word addition and subtraction (ADC/SBB chains) whose loop counter is updated with
// INC/DEC: the carry travels from translated ADC through interpreted INC/DEC and back.
TEST(Translator, CarryChainsThroughInterpretedIncDec) {
  Program p;
  Xbyak::Label add_loop, sub_loop;
  p.mov(rsi, rbx);             // a: 16 words at data
  p.lea(rdi, ptr[rbx + 128]);  // b: 16 words
  p.lea(rdx, ptr[rbx + 256]);  // a + b, then a - b
  p.xor_(ecx, ecx);
  p.mov(r8d, 16);
  p.clc();
  p.L(add_loop);
  p.mov(rax, ptr[rsi + rcx * 8]);
  p.adc(rax, ptr[rdi + rcx * 8]);
  p.mov(ptr[rdx + rcx * 8], rax);
  p.inc(rcx);
  p.dec(r8);
  p.jnz(add_loop);
  p.setc(byte[rdx + 128]);
  p.mov(r8d, 16);
  p.xor_(ecx, ecx);
  p.L(sub_loop);
  p.mov(rax, ptr[rsi + rcx * 8]);
  p.sbb(rax, ptr[rdi + rcx * 8]);
  p.mov(ptr[rdx + rcx * 8 + 136], rax);
  p.lea(rcx, ptr[rcx + 1]);
  p.dec(r8);
  p.jnz(sub_loop);
  p.setc(byte[rdx + 264]);
  p.ud2();
  run_everywhere(p.bytes());
}

// Loads and stores of every size through the TLB fast path, across a page boundary (the slow
// path), RIP-relative, with an index, with an FS override, and into AH-style byte registers;
// MOVZX/MOVSX/MOVSXD and LEA forms; CMOVcc with a memory source.
TEST(Translator, MemoryOperandsOfEveryShape) {
  Program p;
  Xbyak::Label constant, loop;
  p.mov(r9d, 20);
  p.L(loop);
  p.mov(rax, ptr[rbx + 4096 - 4]);  // crosses into the next page
  p.mov(ptr[rbx + 8192 - 2], eax);  // so does this store
  p.mov(ecx, dword[rbx + 4]);
  p.mov(dx, word[rbx + 6]);
  p.mov(ah, byte[rbx + 9]);
  p.mov(byte[rbx + 10], bh);
  p.movzx(esi, byte[rbx + 11]);
  p.movsx(rdi, word[rbx + 12]);
  p.movsxd(r10, dword[rbx + 14]);
  p.movsx(r11d, byte[rbx + 15]);
  p.movsx(ecx, ah);
  p.mov(r12, ptr[rip + constant]);
  p.mov(r13, r9);
  p.mov(r14, ptr[rbx + r13 * 8 + 64]);
  p.lea(r15, ptr[rbx + r13 * 4 - 3]);
  p.lea(r15d, ptr[r15 + r13 * 2 + 1]);
  p.mov(qword[rbx + r13 * 8 + 512], r15);
  p.db(0x64);  // FS: (base set below)
  p.mov(rbp, ptr[rbx + 16]);
  p.cmp(r9, 10);
  p.cmovb(rbp, ptr[rbx + 24]);
  p.cmova(r13d, dword[rbx + 28]);
  p.setbe(byte[rbx + r9 + 1024]);
  p.mov(word[rbx + r9 * 2 + 2048], -3);
  p.mov(byte[rbx + r9 + 3000], 0x5a);
  p.add(qword[rbx + 3072], 5);  // read-modify-write: the semantics
  p.dec(r9);
  p.jnz(loop, Xbyak::CodeGenerator::T_NEAR);
  p.ud2();
  p.align(8);
  p.L(constant);
  p.dq(0x1122334455667788);
  Options options;
  options.setup = [](SoftCpu& cpu) {
    x86::ArchState s = cpu.state();
    s.seg(x86::Segment::kFs).base = 4096;  // FS:[rbx+16] = data + 4096 + 16
    cpu.set_state(s);
  };
  run_everywhere(p.bytes(), options);
}

// A fault in the middle of a translated block leaves the state of the instructions before it
// and none of the faulting one, with RIP at the faulting instruction: a load, then a store.
TEST(Translator, FaultsInsideABlockAreExact) {
  for (bool store : {false, true}) {
    SCOPED_TRACE(store ? "store" : "load");
    Program p;
    p.mov(eax, 1);
    p.add(rax, rax);
    p.mov(rcx, kHole + 8);
    if (store) {
      p.mov(ptr[rcx], rax);
    } else {
      p.mov(rdx, ptr[rcx]);
    }
    p.mov(eax, 7);
    p.ud2();
    const Outcome out = run_everywhere(p.bytes());
    EXPECT_EQ(out.fault.vector, x86::Vector::kPageFault);
    EXPECT_EQ(out.fault.address, kHole + 8);
    EXPECT_EQ(out.state.gpr[0], 2u);
    EXPECT_EQ(out.retired, 3u);
  }
}

// Calls, returns, pushes and pops (register, immediate and memory sources, RET imm16, POP
// RSP), then each of them faulting on the stack: RSP and RIP must be as before the instruction.
TEST(Translator, StackOperationsAndTheirFaults) {
  Program p;
  Xbyak::Label function, loop;
  p.mov(r12d, 6);
  p.L(loop);
  p.push(r12);
  p.push(0x1234);
  p.push(qword[rbx + 32]);
  p.call(function);
  p.pop(rdx);  // 0x1234
  p.pop(rcx);  // r12
  p.lea(rax, ptr[rsp - 64]);
  p.push(rax);
  p.pop(rsp);  // POP RSP: RSP becomes the popped value
  p.dec(r12);
  p.jnz(loop, Xbyak::CodeGenerator::T_NEAR);
  p.ud2();
  p.L(function);
  p.mov(rax, ptr[rsp + 8]);  // the pushed [rbx + 32]
  p.add(rax, r12);
  p.mov(ptr[rbx + r12 * 8 + 4000], rax);
  p.ret(8);  // releases it
  run_everywhere(p.bytes());

  struct Case {
    const char* name;
    uint64_t rsp;
    std::function<void(Program&)> emit;
  };
  const Case faults[] = {
      {"push into the hole", kHole + 16, [](Program& g) { g.push(rax); }},
      {"call into the hole", kHole + 16, [](Program& g) { g.call(g.getCurr() + 64); }},
      {"pop from the hole", kHole + 16, [](Program& g) { g.pop(rcx); }},
      {"ret from the hole", kHole + 16, [](Program& g) { g.ret(); }},
      {"ret to a non-canonical address", kData + 40, [](Program& g) { g.ret(); }},
  };
  for (const Case& c : faults) {
    SCOPED_TRACE(c.name);
    Program f;
    f.mov(rax, 0x0000900000000000);  // a non-canonical return address at [kData + 40]
    f.mov(ptr[rbx + 40], rax);
    f.mov(rsp, c.rsp);
    const size_t faulting = f.getSize();
    c.emit(f);
    f.ud2();
    const Outcome out = run_everywhere(f.bytes());
    EXPECT_NE(out.fault.vector, x86::Vector::kInvalidOpcode);
    EXPECT_EQ(out.state.gpr[4], c.rsp);
    EXPECT_EQ(out.state.rip, kBase + faulting);
  }
}

// A relative branch to a non-canonical address raises #GP(0) at the branch (SDM Vol. 1
// 6.3.7): code in the last pages below the canonical hole.
TEST(Translator, BranchToANonCanonicalTargetRaisesGeneralProtection) {
  constexpr uint64_t kTop = 0x0000800000000000;
  Options options;
  options.base = kTop - kSize;
  for (bool conditional : {false, true}) {
    SCOPED_TRACE(conditional ? "jcc" : "jmp");
    Program p;
    p.mov(eax, 3);
    p.cmp(eax, 3);
    if (conditional) {
      p.db(0x0f);  // je past the top
      p.db(0x84);
      p.dd(static_cast<uint32_t>(kSize));
    } else {
      p.db(0xe9);  // jmp past the top
      p.dd(static_cast<uint32_t>(kSize));
    }
    const Outcome out = run_everywhere(p.bytes(), options);
    EXPECT_EQ(out.fault.vector, x86::Vector::kGeneralProtection);
    EXPECT_EQ(out.state.rip, options.base + 8);  // the branch
  }
}

// A loop that patches an immediate of its own block before executing it: the translated
// block must see every new value (the store leaves the block, which is decoded again).
TEST(Translator, StoresIntoTheRunningBlockTakeEffect) {
  Program p;
  Xbyak::Label loop, patched;
  p.xor_(eax, eax);
  p.mov(ecx, 10);
  p.L(loop);
  p.mov(byte[rip + patched + 2], cl);  // the imm8 of the ADD below
  p.L(patched);
  p.add(eax, 0x7f);  // 83 C0 ib
  p.dec(ecx);
  p.jnz(loop);
  p.ud2();
  const Outcome out = run_everywhere(p.bytes());
  EXPECT_EQ(out.state.gpr[0], 55u);  // 10 + 9 + ... + 1
}

// A translation region too small for the program's hot blocks: the cache drops everything
// and starts over, repeatedly, and the program still computes the same result.
TEST(Translator, AFullRegionFlushesAndExecutionContinues) {
  Program p;
  Xbyak::Label outer, inner;
  p.xor_(eax, eax);
  p.mov(ecx, 30);
  p.L(outer);
  p.mov(edx, 5);
  p.L(inner);
  p.add(eax, edx);
  p.imul(eax, eax, 3);
  p.and_(eax, 0xffff);
  p.dec(edx);
  p.jnz(inner);
  p.xor_(eax, ecx);
  p.dec(ecx);
  p.jnz(outer);
  p.ud2();
  TranslationPolicy tiny = kTranslateAtOnce;
  tiny.region_bytes = 1024;
  const Outcome interpreted = run(p.bytes(), kInterpret, {});
  const Outcome translated = run(p.bytes(), tiny, {});
  expect_same(interpreted, translated, "tiny region");
  EXPECT_GT(translated.flushes, 0u);
  EXPECT_GT(translated.translated, translated.flushes);
}

// Chained blocks (a loop over three blocks, with a TLB flush in each iteration so that the
// chains' generation goes stale and is re-made): the same results, and a stop request from
// another thread ends an endless chained loop.
TEST(Translator, ChainedBlocksStopForFlushesAndRequests) {
  Program p;
  Xbyak::Label top, odd, join, done;
  p.xor_(eax, eax);
  p.mov(ecx, 300);
  p.L(top);
  p.test(cl, 1);
  p.jnz(odd);
  p.add(eax, ecx);
  p.jmp(join);
  p.L(odd);
  p.db(0x0f);  // invlpg [rbx] (0F 01 /7): the TLB generation changes
  p.db(0x01);
  p.db(0x3b);
  p.sub(eax, 3);
  p.L(join);
  p.sub(ecx, 1);
  p.jnz(top);
  p.ud2();
  run_everywhere(p.bytes());

  Program endless;
  Xbyak::Label again;
  endless.L(again);
  endless.add(rax, 1);
  endless.jmp(again);
  testing::FlatMemory memory(kBase, kSize);
  memory.write(kBase, endless.bytes());
  const x86::CpuidPolicy cpuid = soft_cpuid_policy();
  CodeCache cache(kTranslateAtOnce);
  SoftCpu cpu(memory, cache, cpuid);
  cpu.rip = kBase;
  std::thread stopper([&] {
    while (__atomic_load_n(&cpu.gpr[0], __ATOMIC_RELAXED) < 1000) std::this_thread::yield();
    cpu.request_stop();
  });
  EXPECT_EQ(cpu.run(), ExitReason::kStopRequest);
  stopper.join();
  EXPECT_EQ(cpu.retired, 2 * cpu.gpr[0]);
  EXPECT_LT(cpu.dispatches * 100, cpu.retired);  // the loop jumped to itself, chained
}

// Returns go through the CPU's jump cache: a recursive Fibonacci (thousands of returns to a
// few return addresses), and a caller that rewrites the callee's code between calls (the
// cached translation of the return target and of the callee must not be reused stale).
TEST(Translator, ReturnsThroughTheJumpCache) {
  Program p;
  Xbyak::Label fib, base, done, callee, loop;
  p.mov(edi, 15);
  p.call(fib);
  p.mov(r12, rax);
  p.mov(ecx, 6);
  p.L(loop);
  p.mov(byte[rip + callee + 1], cl);  // callee: mov al, imm8 (B0 ib) <- CL
  p.call(callee);
  p.add(r13, rax);
  p.dec(ecx);
  p.jnz(loop);
  p.ud2();
  p.L(fib);  // rax = fib(rdi)
  p.cmp(rdi, 2);
  p.jb(base);
  p.push(rdi);
  p.dec(rdi);
  p.call(fib);
  p.pop(rdi);
  p.push(rax);
  p.sub(rdi, 2);
  p.call(fib);
  p.pop(rdx);
  p.add(rax, rdx);
  p.ret();
  p.L(base);
  p.mov(rax, rdi);
  p.ret();
  p.L(callee);
  p.mov(al, 0);
  p.movzx(eax, al);
  p.ret();
  const Outcome out = run_everywhere(p.bytes());
  // Calls chain and returns jump through the cache: the run loop starts few of the blocks.
  const Outcome translated = run(p.bytes(), kTranslateAtOnce, {});
  EXPECT_LT(translated.dispatches * 10, out.dispatches);
  EXPECT_EQ(out.state.gpr[12], 610u);                    // fib(15)
  EXPECT_EQ(out.state.gpr[13], 6u + 5 + 4 + 3 + 2 + 1);  // each call saw its patched immediate
}

// Flag records that a later instruction overwrites unread are skipped: chains of producers
// with moves and host-flag readers between them, a lazily kept producer (shift, IMUL)
// followed by a reader (its record must stay), PUSHF reading the lazy flags, and a fault
// after a chain (the exception sees the last producer's flags).
TEST(Translator, DeadFlagRecordsAreSkippedOnlyWhenOverwritten) {
  for (bool fault : {false, true}) {
    SCOPED_TRACE(fault ? "ends in a fault" : "ends in ud2");
    Program p;
    Xbyak::Label loop;
    p.mov(r8d, 40);
    p.L(loop);
    p.mov(rax, r8);
    p.imul(rax, rax, 0x9e3779b1);
    p.add(rax, rcx);
    p.mov(rdx, rax);
    p.sub(rdx, 5);
    p.setz(cl);
    p.cmovs(rsi, rdx);
    p.xor_(rdx, rax);
    p.shl(rax, 3);
    p.setc(bl);  // reads the shift's lazy record
    p.cmovo(rdi, rax);
    p.add(rax, 1);
    p.imul(rdx, rax);
    p.pushfq();  // reads the IMUL's record
    p.pop(r9);
    p.and_(rdx, r9);
    p.or_(r10, rdx);
    p.test(r10d, 0x40);
    p.setnz(r11b);
    p.dec(r8);
    p.jnz(loop);
    p.add(rax, rsi);
    p.cmp(rax, rdi);
    if (fault) {
      p.mov(r12, kHole);
      p.mov(rdx, ptr[r12]);
    }
    p.ud2();
    run_everywhere(p.bytes());
  }
}

// run(budget) stops between blocks: the same count and state in every tier.
TEST(Translator, BudgetStopsAtTheSameInstruction) {
  Program p;
  Xbyak::Label loop;
  p.xor_(eax, eax);
  p.L(loop);
  p.add(eax, 3);
  p.cmp(eax, 1000000);
  p.jne(loop);
  p.ud2();
  Options options;
  options.budget = 1001;
  const Outcome out = run_everywhere(p.bytes(), options);
  EXPECT_EQ(out.reason, ExitReason::kBudget);
}

}  // namespace
}  // namespace cella::soft
