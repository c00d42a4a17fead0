#include "tests/unit/soft/simd_harness.h"

#include <cstring>

#include <fmt/format.h>

#include "cpu/x86/fxsave.h"
#include "engines/soft/cpuid.h"

namespace cella::testing {

namespace {

using namespace fxsave_offset;

constexpr uint64_t kCode = SimdHarness::kSoftBase;
constexpr uint64_t kRegion = SimdHarness::kSoftRegion;
constexpr int kRsi = 6, kRdi = 7;
constexpr size_t kRsiOffset = 64, kRdiOffset = 128;

}  // namespace

SimdHarness::SimdHarness()
    : memory_(kSoftBase, 0x10000),
      cpuid_(soft::soft_cpuid_policy()),
      cpu_(memory_, code_, cpuid_) {}

Outcome SimdHarness::run_native(const std::vector<uint8_t>& bytes, const SimdInput& input) {
  Outcome out;
  out.after = input;
  std::memcpy(native_memory_, input.memory, sizeof(native_memory_));
  NativeState& s = out.after.state;
  s.gpr[kRsi] = reinterpret_cast<uint64_t>(native_memory_) + kRsiOffset;
  s.gpr[kRdi] = reinterpret_cast<uint64_t>(native_memory_) + kRdiOffset;
  const NativeResult r = native_.run(bytes, s);
  out.faulted = r.faulted;
  out.vector = r.vector;
  s.gpr[kRsi] -= reinterpret_cast<uint64_t>(native_memory_);
  s.gpr[kRdi] -= reinterpret_cast<uint64_t>(native_memory_);
  std::memcpy(out.after.memory, native_memory_, sizeof(native_memory_));
  return out;
}

Outcome SimdHarness::run_soft(const std::vector<uint8_t>& bytes, const SimdInput& input) {
  std::vector<uint8_t> code = bytes;
  code.push_back(0x0f);  // UD2 ends the block after the instruction
  code.push_back(0x0b);
  code_.invalidate_page(kCode);
  memory_.write(kCode, code);
  memory_.write(kRegion, {input.memory, sizeof(input.memory)});
  x86::ArchState arch;
  x86::load_fxsave_image(arch, std::span<const uint8_t, 512>(input.state.fxsave, 512),
                         x86::FxsaveFormat::k64);
  for (int i = 0; i < 16; ++i) arch.gpr[i] = input.state.gpr[i];
  arch.gpr[kRsi] = kRegion + kRsiOffset;
  arch.gpr[kRdi] = kRegion + kRdiOffset;
  arch.rflags = input.state.rflags;
  arch.rip = kCode;
  arch.cr0 = soft_cr0;
  arch.cr4 = soft_cr4;
  cpu_.set_state(arch);
  cpu_.run(100);
  Outcome out;
  out.after = input;
  const bool completed =
      cpu_.rip == kCode + bytes.size() && cpu_.fault.vector == x86::Vector::kInvalidOpcode;
  out.faulted = !completed;
  out.vector = static_cast<int>(cpu_.fault.vector);
  const x86::ArchState after = cpu_.state();
  const auto image = x86::fxsave_image(after, x86::FxsaveFormat::k64);
  std::memcpy(out.after.state.fxsave, image.data(), image.size());
  for (int i = 0; i < 16; ++i) out.after.state.gpr[i] = after.gpr[i];
  out.after.state.gpr[kRsi] -= kRegion;
  out.after.state.gpr[kRdi] -= kRegion;
  out.after.state.rflags = after.rflags;
  std::memcpy(out.after.memory, memory_.host(kRegion), sizeof(out.after.memory));
  return out;
}

std::string hex(const std::vector<uint8_t>& bytes) {
  std::string s;
  for (uint8_t b : bytes) s += fmt::format("{:02x} ", b);
  return s;
}

std::string SimdHarness::compare(const std::vector<uint8_t>& bytes, const SimdInput& input,
                                 Outcome* native_out) {
  const Outcome native = run_native(bytes, input);
  const Outcome soft = run_soft(bytes, input);
  if (native_out != nullptr) *native_out = native;
  std::string diff;
  if (native.faulted != soft.faulted || (native.faulted && native.vector != soft.vector)) {
    diff += fmt::format("  fault: native {} (vector {}), soft {} (vector {})\n", native.faulted,
                        native.vector, soft.faulted, soft.vector);
  }
  const uint8_t* n = native.after.state.fxsave;
  const uint8_t* s = soft.after.state.fxsave;
  const uint8_t* in = input.state.fxsave;
  auto field = [&](const char* name, size_t offset, size_t size) {
    if (std::memcmp(n + offset, s + offset, size) == 0) return;
    std::string a, b, c;
    for (size_t i = size; i-- > 0;) {
      a += fmt::format("{:02x}", n[offset + i]);
      b += fmt::format("{:02x}", s[offset + i]);
      c += fmt::format("{:02x}", in[offset + i]);
    }
    diff += fmt::format("  {}: native {} soft {} (input {})\n", name, a, b, c);
  };
  field("FCW", 0, 2);
  field("FSW", 2, 2);
  field("FTW", 4, 1);
  field("MXCSR", kMxcsrOffset, 4);
  for (unsigned i = 0; i < 8; ++i) field(fmt::format("ST{}", i).c_str(), kStOffset + 16 * i, 10);
  for (unsigned i = 0; i < 16; ++i) {
    field(fmt::format("XMM{}", i).c_str(), kXmmOffset + 16 * i, 16);
  }
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 15) continue;
    if (native.after.state.gpr[i] != soft.after.state.gpr[i]) {
      diff += fmt::format("  GPR{}: native {:x} soft {:x} (input {:x})\n", i,
                          native.after.state.gpr[i], soft.after.state.gpr[i], input.state.gpr[i]);
    }
  }
  constexpr uint64_t kCompared = 0x8d5 | 0x400;  // status flags and DF
  if ((native.after.state.rflags ^ soft.after.state.rflags) & kCompared) {
    diff += fmt::format("  RFLAGS: native {:x} soft {:x} (input {:x})\n",
                        native.after.state.rflags & kCompared, soft.after.state.rflags & kCompared,
                        input.state.rflags & kCompared);
  }
  for (size_t i = 0; i < sizeof(input.memory); ++i) {
    if (native.after.memory[i] != soft.after.memory[i]) {
      diff += fmt::format("  memory[{}]: native {:02x} soft {:02x} (input {:02x})\n", i,
                          native.after.memory[i], soft.after.memory[i], input.memory[i]);
    }
  }
  return diff;
}

}  // namespace cella::testing
