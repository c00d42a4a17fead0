#include "tests/diff/compare.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "tests/diff/layout.h"

namespace cella::diff {

namespace {

constexpr const char* kGprNames[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                       "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

// FXSAVE64 fields compared (SDM Vol. 1 Table 10-2), by name.
struct FxField {
  const char* name;
  size_t offset;
  size_t size;
};
constexpr FxField kFxFields[] = {
    {"fcw", 0, 2}, {"fsw", 2, 2},  {"ftw", 4, 1},    {"fop", 6, 2},
    {"fip", 8, 8}, {"fdp", 16, 8}, {"mxcsr", 24, 4},
};

std::string bytes_hex(const uint8_t* p, size_t n) {
  std::string out;
  for (size_t i = n; i-- > 0;) out += fmt::format("{:02x}", p[i]);
  return out;
}

// AMD processors store FOP, FIP and FDP only while an x87 exception is pending (ES set); with
// nothing stored there is nothing to compare (the x87 unit tests compare them through FNSAVE,
// which stores them; Cella's FXSAVE stores them always, as Intel processors do).
bool host_omits_x87_pointers(const MachineState& native) {
  const uint8_t* fx = native.fx.data();
  constexpr uint16_t kEs = 1 << 7;
  uint16_t fsw;
  std::memcpy(&fsw, fx + 2, 2);
  return (fsw & kEs) == 0 && std::all_of(fx + 6, fx + 24, [](uint8_t b) { return b == 0; });
}
bool is_x87_pointer(const FxField& f) {
  return f.offset >= 6 && f.offset < 24;
}

void compare_fx(const MachineState& a, const MachineState& b, std::vector<std::string>& diffs) {
  const bool skip_pointers = host_omits_x87_pointers(a);
  for (const FxField& f : kFxFields) {
    if (skip_pointers && is_x87_pointer(f)) continue;
    if (std::memcmp(a.fx.data() + f.offset, b.fx.data() + f.offset, f.size) != 0) {
      diffs.push_back(fmt::format("{}: native {} soft {}", f.name,
                                  bytes_hex(a.fx.data() + f.offset, f.size),
                                  bytes_hex(b.fx.data() + f.offset, f.size)));
    }
  }
  for (int i = 0; i < 8; ++i) {  // ST(i): 10 significant bytes of each 16
    const size_t at = 32 + 16 * static_cast<size_t>(i);
    if (std::memcmp(a.fx.data() + at, b.fx.data() + at, 10) != 0) {
      diffs.push_back(fmt::format("st{}: native {} soft {}", i, bytes_hex(a.fx.data() + at, 10),
                                  bytes_hex(b.fx.data() + at, 10)));
    }
  }
  for (int i = 0; i < 16; ++i) {
    const size_t at = 160 + 16 * static_cast<size_t>(i);
    if (std::memcmp(a.fx.data() + at, b.fx.data() + at, 16) != 0) {
      diffs.push_back(fmt::format("xmm{}: native {} soft {}", i, bytes_hex(a.fx.data() + at, 16),
                                  bytes_hex(b.fx.data() + at, 16)));
    }
  }
}

}  // namespace

std::vector<std::string> compare(const Outcome& native, const Outcome& soft,
                                 uint64_t undefined_flags) {
  std::vector<std::string> diffs;
  if (native.vector != soft.vector) {
    diffs.push_back(fmt::format("exception: native {} soft {}", native.vector, soft.vector));
    return diffs;
  }
  if (native.vector >= 0) {
    if (native.rip != soft.rip)
      diffs.push_back(fmt::format("fault rip: native {:#x} soft {:#x}", native.rip, soft.rip));
    // #GP and #PF error codes (SDM Vol. 3A 6.13, 4.7); #PF: also the address (CR2).
    if ((native.vector == 13 || native.vector == 14) &&
        (native.error_code & 0x1f) != (soft.error_code & 0x1f)) {
      diffs.push_back(
          fmt::format("error code: native {:#x} soft {:#x}", native.error_code, soft.error_code));
    }
    if (native.vector == 14 && native.fault_address != soft.fault_address) {
      diffs.push_back(fmt::format("fault address: native {:#x} soft {:#x}", native.fault_address,
                                  soft.fault_address));
    }
  }
  for (int i = 0; i < 16; ++i) {
    if (native.state.gpr[i] != soft.state.gpr[i]) {
      diffs.push_back(fmt::format("{}: native {:#x} soft {:#x}", kGprNames[i], native.state.gpr[i],
                                  soft.state.gpr[i]));
    }
  }
  const uint64_t mask = ~(kIgnoredFlags | undefined_flags);
  if ((native.state.rflags & mask) != (soft.state.rflags & mask)) {
    diffs.push_back(fmt::format("rflags: native {:#x} soft {:#x} (compared bits {:#x})",
                                native.state.rflags, soft.state.rflags, mask & 0x3fffff));
  }
  compare_fx(native.state, soft.state, diffs);
  for (size_t i = 0; i < native.data.size() && i < soft.data.size(); ++i) {
    if (native.data[i] != soft.data[i]) {
      diffs.push_back(fmt::format("memory [{:#x}]: native {:02x} soft {:02x}", kDataAddress + i,
                                  native.data[i], soft.data[i]));
      break;
    }
  }
  return diffs;
}

}  // namespace cella::diff
