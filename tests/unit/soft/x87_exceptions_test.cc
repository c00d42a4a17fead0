// x87 exceptions beyond the arithmetic ones: the pending-exception model (#MF at the next
// waiting instruction, checked against the host for every form), #NM from CR0.EM/TS, page
// faults and #GP that leave the state unchanged, and the host FPU left exactly as it was.
#include <gtest/gtest.h>

#include "engines/soft/decoder/decoder.h"
#include "engines/soft/exec/x87.h"
#include "tests/unit/soft/x87_harness.h"

namespace cella::soft {
namespace {

using testing::X87Input;
using testing::X87Outcome;

std::vector<uint8_t> encode(const Encoding& e) {
  std::vector<uint8_t> bytes;
  if (e.rex_w == 1) bytes.push_back(0x48);
  if (e.map == OpcodeMap::k0F) bytes.push_back(0x0f);
  bytes.push_back(e.opcode);
  if (!e.has_modrm) return bytes;
  const unsigned reg = e.modrm_reg < 0 ? 0 : static_cast<unsigned>(e.modrm_reg);
  if (e.modrm_mod == 0) {
    bytes.push_back(static_cast<uint8_t>(reg << 3 | 6));  // [rsi]
  } else {
    const unsigned rm = e.modrm_rm >= 0 ? static_cast<unsigned>(e.modrm_rm) : 1;
    bytes.push_back(static_cast<uint8_t>(0xc0 | reg << 3 | rm));
  }
  return bytes;
}

std::vector<std::pair<const FormSpec*, std::vector<uint8_t>>> x87_encodings() {
  std::vector<std::pair<const FormSpec*, std::vector<uint8_t>>> list;
  const Decoder& decoder = Decoder::instance();
  for (uint16_t i = 0; i < decoder.form_count(); ++i) {
    const Encoding& e = decoder.encoding(i);
    const bool x87 = (e.map == OpcodeMap::kPrimary &&
                      ((e.opcode >= 0xd8 && e.opcode <= 0xdf) || e.opcode == 0x9b)) ||
                     (e.map == OpcodeMap::k0F && e.opcode == 0xae && e.modrm_mod == 0 &&
                      (e.modrm_reg == 0 || e.modrm_reg == 1));
    if (x87) list.emplace_back(&decoder.form(i), encode(e));
  }
  return list;
}

// A state with an unmasked invalid-operation exception flagged: after FRSTOR loads it, ES is
// set and the next waiting instruction takes #MF (SDM Vol. 1 8.6).
X87Input pending_input(testing::X87Random& random) {
  X87Input in = random.input();
  in.state.set_word(0, 0x037e);  // IM clear
  in.state.set_word(4, static_cast<uint16_t>(in.state.status() | x87::fsw::kIe));
  const uint32_t mxcsr = 0x1f80;
  std::memcpy(in.data.data() + 24, &mxcsr, 4);  // FXRSTOR's source stays loadable
  return in;
}

TEST(X87Exceptions, PendingExceptionFaultsExactlyWhereTheHostTraps) {
  testing::NativeX87 native;
  testing::SoftX87 soft;
  testing::X87Random random(7);
  int waiting = 0, non_waiting = 0;
  for (const auto& [form, insn] : x87_encodings()) {
    const X87Input in = pending_input(random);
    X87Outcome expected;
    const int signal = native.run_trapping(insn, in, expected);
    const X87Outcome actual = soft.run(insn, in);
    const std::string what = fmt::format("{} {}", form->mnemonic, testing::hex(insn));
    if (signal != 0) {
      ++waiting;
      EXPECT_EQ(signal, SIGFPE) << what;
      ASSERT_TRUE(actual.faulted) << what << ": executed, the host takes #MF";
      EXPECT_EQ(actual.vector, x86::Vector::kX87FloatingPoint) << what;
      EXPECT_EQ(soft.cpu().rip, testing::kX87InsnAddress) << what;
      // Nothing changed: the state is the one FRSTOR loaded (FIP and FOP included).
      const x86::X87State& s = soft.cpu().arch.x87;
      EXPECT_EQ(s.status, static_cast<uint16_t>(in.state.status() | 0x8080)) << what;
      EXPECT_EQ(s.last_instruction, in.state.fip()) << what;
      EXPECT_EQ(s.last_opcode, in.state.fop()) << what;
    } else {
      ++non_waiting;
      EXPECT_FALSE(actual.faulted) << what << ": faulted, the host executes it";
      EXPECT_EQ(expected.state.bytes, actual.state.bytes) << what;
    }
  }
  // FNSTENV FNSAVE FNSTCW FNSTSW (2) FNCLEX FNINIT FNENI FNDISI FNSETPM FXSAVE (2) FXRSTOR (2)
  EXPECT_EQ(non_waiting, 14);
  EXPECT_GT(waiting, 120);
}

// Runs `insn` then UD2 from `state` on the software CPU; returns the exception it raised.
struct Single {
  testing::FlatMemory memory{testing::kX87Base, testing::kX87RegionSize};
  CodeCache code;
  x86::CpuidPolicy policy = soft_cpuid_policy();
  SoftCpu cpu{memory, code, policy};

  x86::Vector run(std::span<const uint8_t> insn, const x86::ArchState& state) {
    std::vector<uint8_t> bytes(insn.begin(), insn.end());
    bytes.insert(bytes.end(), {0x0f, 0x0b});
    code.clear();
    memory.write(testing::kX87Code, bytes);
    x86::ArchState s = state;
    s.rip = testing::kX87Code;
    s.reg(x86::Gpr::kRsi) = testing::kX87Data;
    s.reg(x86::Gpr::kRsp) = testing::kX87Base + testing::kX87RegionSize - 64;
    cpu.set_state(s);
    cpu.run(100);
    return cpu.fault.vector;
  }
};

x86::ArchState some_state() {
  x86::ArchState s;
  testing::X87Random random(3);
  s.x87.status = 5 << 11;
  s.x87.tag = 0;
  for (auto& r : s.x87.physical) r = random.value();
  s.x87.tag = x86::full_tags(0x7f, s.x87.physical);  // R7 (ST(2)) empty
  s.x87.control = 0x037f;
  return s;
}

TEST(X87Exceptions, DeviceNotAvailableFromCr0) {
  Single single;
  for (const auto& [form, insn] : x87_encodings()) {
    const std::string what = fmt::format("{} {}", form->mnemonic, testing::hex(insn));
    x86::ArchState s = some_state();
    const bool wait = std::string_view(form->mnemonic) == "FWAIT";
    s.cr0 |= x86::cr0::kTs;
    EXPECT_EQ(single.run(insn, s) == x86::Vector::kDeviceNotAvailable, !wait) << what << " TS";
    EXPECT_EQ(single.cpu.arch.x87, s.x87) << what;
    s.cr0 |= x86::cr0::kMp;  // SDM Vol. 3A Table 2-2: WAIT takes #NM with MP and TS
    EXPECT_EQ(single.run(insn, s), x86::Vector::kDeviceNotAvailable) << what << " MP TS";
    s.cr0 &= ~(x86::cr0::kMp | x86::cr0::kTs);
    s.cr0 |= x86::cr0::kEm;
    EXPECT_EQ(single.run(insn, s) == x86::Vector::kDeviceNotAvailable, !wait) << what << " EM";
  }
}

// A memory operand on a page that cannot be read (or written) raises #PF and changes nothing,
// neither the x87 state nor any byte of memory.
TEST(X87Exceptions, PageFaultsChangeNothing) {
  Single single;
  int checked = 0;
  for (const auto& [form, insn] : x87_encodings()) {
    if (!Decoder::instance().decode(insn.data(), insn.size()).insn.has_memory) continue;
    const std::string what = fmt::format("{} {}", form->mnemonic, testing::hex(insn));
    for (bool readable : {false, true}) {
      single.memory.set_permissions(testing::kX87Data, 4096, {readable, false, false});
      std::vector<uint8_t> before(single.memory.host(testing::kX87Data),
                                  single.memory.host(testing::kX87Data) + 4096);
      x86::ArchState s = some_state();
      const x86::Vector vector = single.run(insn, s);
      const bool store = vector == x86::Vector::kPageFault;
      if (!readable) {
        EXPECT_EQ(vector, x86::Vector::kPageFault) << what;
      }
      if (store || !readable) {
        EXPECT_EQ(single.cpu.rip, testing::kX87Code) << what;
        EXPECT_EQ(single.cpu.arch.x87, s.x87) << what;
        EXPECT_EQ(single.cpu.arch.mxcsr, s.mxcsr) << what;
        EXPECT_TRUE(std::equal(before.begin(), before.end(), single.memory.host(testing::kX87Data)))
            << what;
        ++checked;
      }
    }
    single.memory.set_permissions(testing::kX87Data, 4096, {});
  }
  EXPECT_GT(checked, 60);
}

// A state image (and a 10-byte operand) reaching into the inaccessible page after the region:
// nothing is transferred, and the fault reports the address the host reports (CR2: its first
// doubleword if that crosses, else its last byte).
TEST(X87Exceptions, OperandsAcrossPagesFaultLikeTheHost) {
  testing::NativeX87 native;
  testing::SoftX87 soft;
  testing::X87Random random(5);
  struct Operand {
    std::vector<uint8_t> opcode;  // with ModRM [rsi+disp32]
    size_t size;
  };
  const Operand operands[] = {{{0xdd, 0xb6}, 108},       {{0xdd, 0xa6}, 108},
                              {{0xd9, 0xb6}, 28},        {{0xd9, 0xa6}, 28},
                              {{0x66, 0xdd, 0xb6}, 94},  {{0x66, 0xd9, 0xa6}, 14},
                              {{0x0f, 0xae, 0x86}, 512}, {{0x0f, 0xae, 0x8e}, 512},
                              {{0xdb, 0xbe}, 10},        {{0xdf, 0xa6}, 10}};
  const uint64_t end = testing::kX87Base + testing::kX87RegionSize;
  int faults = 0;
  for (const Operand& operand : operands) {
    const bool fx = operand.opcode[0] == 0x0f;
    for (size_t back = fx ? 16 : 1; back < operand.size; back += fx ? 16 : 1) {
      const uint32_t displacement = static_cast<uint32_t>(end - back - testing::kX87Data);
      std::vector<uint8_t> insn = operand.opcode;
      for (int i = 0; i < 4; ++i) insn.push_back(static_cast<uint8_t>(displacement >> (8 * i)));
      X87Input in = random.input();
      in.state.set_word(4, static_cast<uint16_t>(in.state.status() & ~0x3f));
      in.state.set_word(8, 0);  // every register in use: FSTP has something to store
      X87Outcome expected;
      const int signal = native.run_trapping(insn, in, expected);
      const X87Outcome actual = soft.run(insn, in);
      const std::string what = fmt::format("{} at end-{}", testing::hex(insn), back);
      ASSERT_EQ(signal, SIGSEGV) << what;
      ASSERT_TRUE(actual.faulted) << what;
      EXPECT_EQ(actual.vector, x86::Vector::kPageFault) << what;
      EXPECT_EQ(soft.cpu().fault.address, testing::NativeX87::fault_address()) << what;
      const std::vector<uint8_t> untouched(soft.memory().host(end - 512), soft.memory().host(end));
      EXPECT_TRUE(std::all_of(untouched.begin(), untouched.end(), [](uint8_t b) { return b == 0; }))
          << what << ": wrote before faulting";
      ++faults;
    }
  }
  EXPECT_GT(faults, 300);
}

// FXSAVE/FXRSTOR: #GP(0) on a misaligned operand; FXRSTOR with reserved MXCSR bits set raises
// #GP(0) and loads nothing, as on the host.
TEST(X87Exceptions, FxsaveAlignmentAndReservedMxcsr) {
  Single single;
  const x86::ArchState s = some_state();
  const uint8_t fxsave_misaligned[] = {0x0f, 0xae, 0x46, 0x08};   // fxsave [rsi+8]
  const uint8_t fxrstor_misaligned[] = {0x0f, 0xae, 0x4e, 0x04};  // fxrstor [rsi+4]
  EXPECT_EQ(single.run(fxsave_misaligned, s), x86::Vector::kGeneralProtection);
  EXPECT_EQ(single.run(fxrstor_misaligned, s), x86::Vector::kGeneralProtection);
  EXPECT_EQ(single.cpu.arch.x87, s.x87);

  testing::NativeX87 native;
  testing::X87Random random(11);
  X87Input in = random.input();
  const uint32_t bad_mxcsr = 0x00011f80;  // bit 16 is reserved for Cella (MXCSR_MASK 0xffff)
  std::memcpy(in.data.data() + 24, &bad_mxcsr, 4);
  const uint8_t fxrstor[] = {0x0f, 0xae, 0x0e};
  X87Outcome expected;
  EXPECT_EQ(native.run_trapping(fxrstor, in, expected), SIGSEGV);
  testing::SoftX87 soft;
  const X87Outcome actual = soft.run(fxrstor, in);
  EXPECT_TRUE(actual.faulted);
  EXPECT_EQ(actual.vector, x86::Vector::kGeneralProtection);
}

// The host FPU is left exactly as found: control word, status word (exception flags
// included), an empty stack, MXCSR; whether the guest masks its exceptions or not.
TEST(X87Exceptions, HostFpuUnchanged) {
  testing::SoftX87 soft;
  testing::X87Random random(13);
  const uint16_t host_control = 0x0b7f;  // round up, extended precision
  asm volatile("fldcw %0" : : "m"(host_control));
  // Raise the precision flag on the host: 1 / 3.
  asm volatile(
      "fld1\n\tfld1\n\tfadd %%st(0), %%st(0)\n\tfadd %%st(1), %%st(0)\n\tfdivrp\n\t"
      "fstp %%st(0)" ::
          : "st", "st(1)");
  uint8_t before[28], after[28];
  uint32_t mxcsr_before, mxcsr_after;
  asm volatile("fnstenv %0\n\tfldcw %0\n\tstmxcsr %1" : "=m"(before), "=m"(mxcsr_before));
  const uint8_t forms[][2] = {{0xd8, 0xf1}, {0xd9, 0xf2}, {0xde, 0xf9}, {0xd9, 0xfb},
                              {0xdb, 0xf1}, {0xd9, 0xf8}, {0xdd, 0x16}, {0xd9, 0x06}};
  for (int n = 0; n < 200; ++n) {
    const X87Input in = random.input();
    soft.run(forms[n % 8], in);
  }
  asm volatile("fnstenv %0\n\tfldcw %0\n\tstmxcsr %1" : "=m"(after), "=m"(mxcsr_after));
  const uint16_t fcw = static_cast<uint16_t>(after[0] | after[1] << 8);
  const uint16_t fsw = static_cast<uint16_t>(after[4] | after[5] << 8);
  const uint16_t ftw = static_cast<uint16_t>(after[8] | after[9] << 8);
  EXPECT_EQ(fcw, host_control);
  EXPECT_EQ(fsw, static_cast<uint16_t>(before[4] | before[5] << 8));
  EXPECT_NE(fsw & x87::fsw::kPe, 0);
  EXPECT_EQ(ftw, 0xffff);
  EXPECT_EQ(mxcsr_after, mxcsr_before);
  const uint16_t standard = 0x037f;
  asm volatile("fnclex\n\tfldcw %0" : : "m"(standard));
}

}  // namespace
}  // namespace cella::soft
