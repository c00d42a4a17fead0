#include "tests/diff/gp_oracle.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>

#include "tests/diff/compare.h"

namespace cella::diff {

namespace {

std::string describe(const MachineState& state) {
  static constexpr const char* kNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp",
                                             "rsi", "rdi", "r8",  "r9",  "r10", "r11",
                                             "r12", "r13", "r14", "r15"};
  std::string out;
  for (int i = 0; i < 16; ++i) out += fmt::format("{}={:#x} ", kNames[i], state.gpr[i]);
  return out + fmt::format("rflags={:#x}", state.rflags);
}

}  // namespace

HostComparison::HostComparison() : native_(NativeRunner::create()), data_(kDataSize) {
  if (native_ == nullptr) throw std::runtime_error("cannot reserve the differential layout");
}

bool HostComparison::matches(const std::vector<uint8_t>& insn, const MachineState& in) {
  const Outcome expected = native_->run(insn, in, data_);
  const uint64_t undefined = soft_.undefined_flags(insn, in);
  const Outcome actual = soft_.run(insn, in, data_);
  const auto diffs = compare(expected, actual, undefined);
  if (diffs.empty()) return true;
  std::string message = fmt::format("[{}] differs from the host:", hex(insn));
  for (const auto& d : diffs) message += "\n    " + d;
  ADD_FAILURE() << message << "\n  inputs: " << describe(in);
  return false;
}

Outcome HostComparison::soft(const std::vector<uint8_t>& insn, const MachineState& in) {
  return soft_.run(insn, in, data_);
}

MachineState plain_state() {
  MachineState s;
  s.gpr[4] = kDataAddress + kDataSize * 3 / 4;
  const uint16_t fcw = 0x37f;     // SDM Vol. 1 8.1.5: FNINIT value
  const uint32_t mxcsr = 0x1f80;  // SDM Vol. 1 10.2.3: power-up value
  std::memcpy(s.fx.data(), &fcw, 2);
  std::memcpy(s.fx.data() + 24, &mxcsr, 4);
  return s;
}

uint64_t Inputs::next() {  // splitmix64
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t Inputs::edgy() {
  static constexpr uint64_t kEdges[] = {
      0,
      1,
      2,
      0x7f,
      0x80,
      0xff,
      0x7fff,
      0x8000,
      0xffff,
      0x7fffffff,
      0x80000000,
      0xffffffff,
      ~uint64_t{0} >> 1,
      uint64_t{1} << 63,
      ~uint64_t{0},
      ~uint64_t{0} - 1,
      0xffffffff80000000,
      0xffffffffffff8000,
  };
  const uint64_t r = next();
  if (r % 3 == 0) return kEdges[(r >> 8) % std::size(kEdges)];
  return next();
}

uint64_t Inputs::flags() {
  return (next() & x86::rflags::kStatus) | 0x202;
}

MachineState Inputs::state() {
  MachineState in = plain_state();
  for (int i = 0; i < 16; ++i) {
    if (i != 4) in.gpr[i] = edgy();
  }
  in.rflags = flags();
  in.gpr[6] = kDataAddress + 4096 + (next() % 2 ? 4093 : next() % 4000);
  return in;
}

void Inputs::randomize(std::vector<uint8_t>& bytes) {
  for (uint8_t& b : bytes) b = static_cast<uint8_t>(next());
}

std::vector<RmShape> rm_shapes(bool byte_form) {
  if (byte_form) return {{{}, false, 3}, {{}, false, 4}, {{}, true, 6}};
  std::vector<RmShape> out;
  for (std::vector<uint8_t> prefix : {std::vector<uint8_t>{0x66}, {}, {0x48}}) {
    out.push_back({prefix, false, 3});
    out.push_back({prefix, true, 6});
  }
  return out;
}

}  // namespace cella::diff
