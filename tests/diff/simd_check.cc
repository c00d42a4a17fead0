#include "tests/diff/simd_check.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "tests/diff/compare.h"
#include "tests/diff/form_instance.h"

namespace cella::diff {

namespace {

// FXSAVE64 offsets (SDM Vol. 1 Table 10-2).
constexpr size_t kFsw = 2, kFtw = 4, kMxcsr = 24, kSt = 32, kXmm = 160;

template <class T>
void put(MachineState& s, size_t offset, T value) {
  std::memcpy(s.fx.data() + offset, &value, sizeof(T));
}
template <class T>
T get(const MachineState& s, size_t offset) {
  T value;
  std::memcpy(&value, s.fx.data() + offset, sizeof(T));
  return value;
}

std::vector<uint8_t> or_zeros(const std::vector<uint8_t>& data) {
  return data.empty() ? std::vector<uint8_t>(kDataSize) : data;
}

}  // namespace

MachineState simd_state(uint32_t mxcsr) {
  MachineState s;
  put<uint16_t>(s, 0, 0x037f);
  put<uint8_t>(s, kFtw, 0);
  set_mxcsr(s, mxcsr);
  s.gpr[4] = kDataAddress + kDataSize * 3 / 4;
  s.gpr[6] = kRsiData;
  s.gpr[7] = kRdiData;
  return s;
}

void set_mxcsr(MachineState& s, uint32_t mxcsr) {
  put(s, kMxcsr, mxcsr);
}
uint32_t mxcsr_of(const MachineState& s) {
  return get<uint32_t>(s, kMxcsr);
}
void set_xmm(MachineState& s, unsigned index, uint64_t low, uint64_t high) {
  put(s, kXmm + 16 * index, low);
  put(s, kXmm + 16 * index + 8, high);
}
uint64_t xmm_low(const MachineState& s, unsigned index) {
  return get<uint64_t>(s, kXmm + 16 * index);
}
uint64_t xmm_high(const MachineState& s, unsigned index) {
  return get<uint64_t>(s, kXmm + 16 * index + 8);
}
void set_st(MachineState& s, unsigned index, uint64_t significand, uint16_t sign_exponent) {
  put(s, kSt + 16 * index, significand);
  put(s, kSt + 16 * index + 8, sign_exponent);
  put<uint8_t>(s, kFtw, static_cast<uint8_t>(get<uint8_t>(s, kFtw) | (1u << index)));
}
uint64_t st_significand(const MachineState& s, unsigned index) {
  return get<uint64_t>(s, kSt + 16 * index);
}
uint16_t st_exponent(const MachineState& s, unsigned index) {
  return get<uint16_t>(s, kSt + 16 * index + 8);
}
void set_fsw(MachineState& s, uint16_t fsw) {
  put(s, kFsw, fsw);
}
uint16_t fsw_of(const MachineState& s) {
  return get<uint16_t>(s, kFsw);
}

SimdCheck::SimdCheck() : native_(NativeRunner::create()) {}

Outcome SimdCheck::native(const std::vector<uint8_t>& bytes, const MachineState& in,
                          const std::vector<uint8_t>& data) {
  return native_->run(bytes, in, or_zeros(data));
}

Outcome SimdCheck::soft(const std::vector<uint8_t>& bytes, const MachineState& in,
                        const std::vector<uint8_t>& data) {
  return soft_.run(bytes, in, or_zeros(data));
}

std::string SimdCheck::compare(const std::vector<uint8_t>& bytes, const MachineState& in,
                               Outcome* native_out, const std::vector<uint8_t>& data) {
  const Outcome expected = native(bytes, in, data);
  const Outcome actual = soft(bytes, in, data);
  if (native_out != nullptr) *native_out = expected;
  const std::vector<std::string> diffs = diff::compare(expected, actual, 0);
  if (diffs.empty()) return {};
  return fmt::format("[{}]\n    {}", hex(bytes), fmt::join(diffs, "\n    "));
}

}  // namespace cella::diff
