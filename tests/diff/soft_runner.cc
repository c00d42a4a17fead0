// Runs one instruction on the software CPU: the same bytes at the same address, followed by
// the same NOP sled and a UD2 whose #UD marks completion.
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "engines/soft/cpuid.h"
#include "engines/soft/decoder/decoder.h"
#include "tests/diff/layout.h"
#include "tests/diff/runners.h"

namespace cella::diff {

namespace {

// Linux's user-mode environment (SDM Vol. 3A 2.5): CR0 with PE MP ET NE WP AM PG, CR4 with
// PAE PGE OSFXSR OSXMMEXCPT, EFER with SCE LME LMA NXE; CS/SS as Linux's 64-bit user selectors.
x86::ArchState base_state() {
  x86::ArchState s;
  s.cr0 = 0x80050033;
  s.cr4 = 0x6a0 | (1u << 5) | (1u << 7);
  s.efer = 0xd01;
  s.seg(x86::Segment::kCs) = {0x33, 0, 0xffffffff, 0xa0fb};
  s.seg(x86::Segment::kSs) = {0x2b, 0, 0xffffffff, 0xc0f3};
  return s;
}

}  // namespace

uint64_t host_fs_base() {
  uint64_t base = 0;
  ::syscall(SYS_arch_prctl, ARCH_GET_FS, &base);
  return base;
}

SoftRunner::SoftRunner()
    : memory_(kRegionBase, kRegionSize),
      cpuid_(soft::soft_cpuid_policy()),
      cpu_(memory_, code_, cpuid_) {
  memory_.set_permissions(kDataAddress, kDataSize, {true, true, false});
}

void SoftRunner::load(const std::vector<uint8_t>& instruction, const MachineState& in,
                      const std::vector<uint8_t>& data) {
  uint8_t* code = memory_.host(kCodeAddress);
  std::memcpy(code, instruction.data(), instruction.size());
  std::memset(code + instruction.size(), 0x90, kSledLength);
  code[instruction.size() + kSledLength] = 0x0F;  // UD2
  code[instruction.size() + kSledLength + 1] = 0x0B;
  code_.clear();
  std::memcpy(memory_.host(kDataAddress), data.data(), data.size());

  x86::ArchState state = base_state();
  std::copy(in.gpr.begin(), in.gpr.end(), state.gpr.begin());
  state.rflags = in.rflags;
  state.rip = kCodeAddress;
  state.seg(x86::Segment::kFs).base = host_fs_base();
  x86::load_fxsave_image(state, std::span<const uint8_t, x86::kFxsaveSize>(in.fx),
                         x86::FxsaveFormat::k64);
  cpu_.set_state(state);
}

Outcome SoftRunner::run(const std::vector<uint8_t>& instruction, const MachineState& in,
                        const std::vector<uint8_t>& data) {
  load(instruction, in, data);
  const soft::ExitReason reason = cpu_.run(1000);
  Outcome out;
  const x86::ArchState state = cpu_.state();
  std::copy(state.gpr.begin(), state.gpr.end(), out.state.gpr.begin());
  out.state.rflags = state.rflags;
  out.state.fx = x86::fxsave_image(state, x86::FxsaveFormat::k64);
  const uint64_t end = kCodeAddress + instruction.size() + kSledLength;
  const bool completed = reason == soft::ExitReason::kFault &&
                         cpu_.fault.vector == x86::Vector::kInvalidOpcode && cpu_.rip == end;
  if (!completed) {
    out.vector = reason == soft::ExitReason::kFault ? static_cast<int>(cpu_.fault.vector) : 255;
    out.error_code = cpu_.fault.has_error_code ? cpu_.fault.error_code : 0;
    out.fault_address = cpu_.fault.address;
    out.rip = cpu_.rip;
  }
  out.data.assign(memory_.host(kDataAddress), memory_.host(kDataAddress) + kDataSize);
  return out;
}

uint64_t SoftRunner::undefined_flags(const std::vector<uint8_t>& instruction,
                                     const MachineState& in) {
  load(instruction, in, std::vector<uint8_t>(kDataSize));
  const soft::Decoder& decoder = soft::Decoder::instance();
  const soft::DecodeResult decoded = decoder.decode(instruction.data(), instruction.size());
  if (decoded.kind != soft::DecodeResult::Kind::kOk) return 0;
  return decoder.form(decoded.insn.form).undefined_flags(cpu_, decoded.insn);
}

}  // namespace cella::diff
