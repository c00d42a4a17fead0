// Saving and restoring the x87 state: FNSTENV FLDENV FNSAVE FRSTOR (SDM Vol. 2A, each
// instruction's page; layouts in SDM Vol. 1 8.1.10, Figures 8-9 and 8-10, and 8.1.11, Figure
// 8-11) and FXSAVE FXRSTOR FXSAVE64 FXRSTOR64 (SDM Vol. 2A FXSAVE; layout in
// cpu/x86/fxsave.h). In 64-bit mode FNSTENV/FNSAVE use the 32-bit protected-mode layout, or
// the 16-bit one with an operand-size prefix.
#include <array>

#include "engines/soft/exec/x87.h"

namespace cella::soft {

namespace {

using namespace attr;
using namespace x87;

template <class V>
void put(uint8_t* p, size_t offset, V value) {
  std::memcpy(p + offset, &value, sizeof(V));
}
template <class V>
V get(const uint8_t* p, size_t offset) {
  V value;
  std::memcpy(&value, p + offset, sizeof(V));
  return value;
}

constexpr size_t kEnvironment32 = 28, kEnvironment16 = 14;
constexpr size_t kRegisterBytes = 10;           // one register in the saved image
constexpr uint32_t kReservedHigh = 0xffff0000;  // reserved halves, stored as ones (host)

bool sixteen_bit(const Insn& insn) {
  return (insn.prefixes & prefix::kOpsize) != 0 && (insn.prefixes & prefix::kRexW) == 0;
}
size_t environment_size(bool sixteen) {
  return sixteen ? kEnvironment16 : kEnvironment32;
}

// Before transferring a state image the host processor checks its first field (a word in the
// 16-bit layouts, a doubleword otherwise) and its last byte: FNSTENV, FNSAVE, FLDENV and FRSTOR
// in that order, FXSAVE and FXRSTOR the last byte first. A page fault reports the byte checked
// (CR2). Images span at most two pages, so nothing is transferred unless every byte is
// accessible.
enum class ProbeOrder { kFirstThenLast, kLastThenFirst };
bool probe_image(SoftCpu& cpu, uint64_t linear, size_t size, Access access, size_t first_field,
                 ProbeOrder order) {
  PageTranslation page;
  auto first = [&] {
    if (!cpu.translate(linear, access, page)) return false;
    const uint64_t first_end = linear + first_field - 1;
    if (((first_end ^ linear) & ~kPageOffsetMask) == 0) return true;
    return cpu.translate(first_end & ~kPageOffsetMask, access, page);
  };
  auto last = [&] { return cpu.translate(linear + size - 1, access, page); };
  return order == ProbeOrder::kFirstThenLast ? first() && last() : last() && first();
}

// SDM Vol. 1 Figure 8-9 (32-bit): FCW, FSW, FTW, FIP[31:0], FCS | FOP << 16, FDP[31:0], FDS;
// Figure 8-10 (16-bit): the same words without FOP, pointers truncated to 16 bits.
void store_environment(const X87State& s, bool sixteen, uint8_t* out) {
  const uint16_t tags = exact_tags(s);
  if (sixteen) {
    const uint16_t words[7] = {s.control, s.status,
                               tags,      static_cast<uint16_t>(s.last_instruction),
                               s.last_cs, static_cast<uint16_t>(s.last_data),
                               s.last_ds};
    std::memcpy(out, words, sizeof(words));
    return;
  }
  put<uint32_t>(out, 0, kReservedHigh | s.control);
  put<uint32_t>(out, 4, kReservedHigh | s.status);
  put<uint32_t>(out, 8, kReservedHigh | tags);
  put<uint32_t>(out, 12, static_cast<uint32_t>(s.last_instruction));
  put<uint32_t>(out, 16, s.last_cs | static_cast<uint32_t>(s.last_opcode & 0x7ff) << 16);
  put<uint32_t>(out, 20, static_cast<uint32_t>(s.last_data));
  put<uint32_t>(out, 24, kReservedHigh | s.last_ds);
}

// The tag word keeps only empty / not empty (SDM Vol. 1 8.1.7: FLDENV and FRSTOR recompute the
// other tag values from the registers); ES and B follow the loaded flags and masks.
void load_environment(X87State& s, bool sixteen, const uint8_t* in) {
  uint16_t tags;
  if (sixteen) {
    s.control = loadable_control(get<uint16_t>(in, 0));
    s.status = get<uint16_t>(in, 2);
    tags = get<uint16_t>(in, 4);
    s.last_instruction = get<uint16_t>(in, 6);
    s.last_cs = get<uint16_t>(in, 8);
    s.last_opcode = 0;
    s.last_data = get<uint16_t>(in, 10);
    s.last_ds = get<uint16_t>(in, 12);
  } else {
    s.control = loadable_control(get<uint16_t>(in, 0));
    s.status = get<uint16_t>(in, 4);
    tags = get<uint16_t>(in, 8);
    s.last_instruction = get<uint32_t>(in, 12);
    s.last_cs = get<uint16_t>(in, 16);
    s.last_opcode = get<uint16_t>(in, 18) & 0x7ff;
    s.last_data = get<uint32_t>(in, 20);
    s.last_ds = get<uint16_t>(in, 24);
  }
  s.tag = x86::full_tags(x86::abridged_tags(tags), s.physical);
  update_summary(s);
}

// FNSTENV: store the environment, then mask every exception (SDM Vol. 2A FSTENV/FNSTENV).
// FNSAVE: store the environment and the registers ST(0)..ST(7), then FNINIT.
template <bool kRegisters>
struct Save {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!available(cpu)) return Status::kFault;
    X87State& s = cpu.arch.x87;
    const bool sixteen = sixteen_bit(insn);
    std::array<uint8_t, kEnvironment32 + 8 * kRegisterBytes> image;
    const size_t environment = environment_size(sixteen);
    store_environment(s, sixteen, image.data());
    size_t size = environment;
    if constexpr (kRegisters) {
      for (unsigned i = 0; i < 8; ++i, size += kRegisterBytes) {
        put<uint64_t>(image.data(), size, st(s, i).significand);
        put<uint16_t>(image.data(), size + 8, st(s, i).sign_exponent);
      }
    }
    const uint64_t address = effective_address(cpu, insn);
    if (!probe_image(cpu, address, size, Access::kWrite, sixteen ? 2 : 4,
                     ProbeOrder::kFirstThenLast) ||
        !cpu.write_slow(address, image.data(), size)) {
      return Status::kFault;
    }
    if constexpr (kRegisters) {
      initialize(s);
    } else {
      s.control |= fcw::kMasks;
      update_summary(s);
    }
    return Status::kNext;
  }
};

// FLDENV / FRSTOR: waiting instructions.
template <bool kRegisters>
struct Restore {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!begin(cpu)) return Status::kFault;
    const bool sixteen = sixteen_bit(insn);
    const size_t environment = environment_size(sixteen);
    const size_t size = environment + (kRegisters ? 8 * kRegisterBytes : 0);
    std::array<uint8_t, kEnvironment32 + 8 * kRegisterBytes> image;
    const uint64_t address = effective_address(cpu, insn);
    if (!probe_image(cpu, address, size, Access::kRead, sixteen ? 2 : 4,
                     ProbeOrder::kFirstThenLast) ||
        !cpu.read_slow(address, image.data(), size)) {
      return Status::kFault;
    }
    X87State& s = cpu.arch.x87;
    if constexpr (kRegisters) {
      // Registers are loaded in stack order, relative to the TOP being loaded.
      const unsigned loaded_top = (get<uint16_t>(image.data(), sixteen ? 2 : 4) >> 11) & 7;
      for (unsigned i = 0; i < 8; ++i) {
        Float80& reg = s.physical[(loaded_top + i) & 7];
        reg.significand = get<uint64_t>(image.data(), environment + i * kRegisterBytes);
        reg.sign_exponent = get<uint16_t>(image.data(), environment + i * kRegisterBytes + 8);
      }
    }
    load_environment(s, sixteen, image.data());
    return Status::kNext;
  }
};

uint64_t sign_extend_57(uint64_t value) {
  return static_cast<uint64_t>(static_cast<int64_t>(value << 7) >> 7);
}

// FXSAVE / FXRSTOR: a 16-byte aligned 512-byte area (#GP(0) otherwise); the processor writes
// and reads bytes 0-415, leaving the reserved and software-available bytes 416-511 alone (SDM
// Vol. 1 Table 10-2; as the host processor does). Neither waits for a pending exception.
constexpr size_t kFxsaveUsed = 416;

template <x86::FxsaveFormat kFormat>
struct FxSave {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!available(cpu)) return Status::kFault;
    const uint64_t address = effective_address(cpu, insn);
    if (address % 16 != 0) return cpu.raise(x86::Vector::kGeneralProtection, 0);
    if (!probe_image(cpu, address, x86::kFxsaveSize, Access::kWrite, 4, ProbeOrder::kLastThenFirst))
      return Status::kFault;
    const auto image = x86::fxsave_image(cpu.arch, kFormat);
    return cpu.write_slow(address, image.data(), kFxsaveUsed) ? Status::kNext : Status::kFault;
  }
};

template <x86::FxsaveFormat kFormat>
struct FxRestore {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if (!available(cpu)) return Status::kFault;
    const uint64_t address = effective_address(cpu, insn);
    if (address % 16 != 0) return cpu.raise(x86::Vector::kGeneralProtection, 0);
    std::array<uint8_t, x86::kFxsaveSize> image{};
    if (!probe_image(cpu, address, x86::kFxsaveSize, Access::kRead, 4,
                     ProbeOrder::kLastThenFirst) ||
        !cpu.read_slow(address, image.data(), kFxsaveUsed)) {
      return Status::kFault;
    }
    // Reserved MXCSR bits: #GP(0), nothing loaded (SDM Vol. 2A FXRSTOR).
    if (!x86::load_fxsave_image(cpu.arch, image, kFormat))
      return cpu.raise(x86::Vector::kGeneralProtection, 0);
    X87State& s = cpu.arch.x87;
    s.control = loadable_control(s.control);
    if constexpr (kFormat == x86::FxsaveFormat::k32) {  // FCS, FDS (SDM Vol. 1 Table 10-2)
      s.last_cs = get<uint16_t>(image.data(), 12);
      s.last_ds = get<uint16_t>(image.data(), 20);
    } else {
      // The 64-bit layout has no selectors: they read as 0 afterwards. The host processor
      // keeps 57 bits of each pointer, sign-extended.
      s.last_cs = s.last_ds = 0;
      s.last_instruction = sign_extend_57(s.last_instruction);
      s.last_data = sign_extend_57(s.last_data);
    }
    update_summary(s);
    return Status::kNext;
  }
};

using x86::FxsaveFormat;

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic     opcode               operands attributes semantics
    FORM("FLDENV",    "D9 /4",             "M", kX87,            Restore<false>),
    FORM("FNSTENV",   "D9 /6",             "M", kX87,            Save<false>),
    FORM("FRSTOR",    "DD /4",             "M", kX87,            Restore<true>),
    FORM("FNSAVE",    "DD /6",             "M", kX87,            Save<true>),
    // FXSAVE is kNoDiff: an AMD host stores MXCSR_MASK with its MM bit, and FOP/FIP/FDP only
    // with an exception pending; tests/unit/soft/x87_forms_test.cc compares everything else.
    FORM("FXSAVE",    "NP 0F AE /0",       "M", kFxsr | kNoDiff, FxSave<FxsaveFormat::k32>),
    FORM("FXRSTOR",   "NP 0F AE /1",       "M", kFxsr,           FxRestore<FxsaveFormat::k32>),
    FORM("FXSAVE64",  "NP REX.W 0F AE /0", "M", kFxsr | kNoDiff, FxSave<FxsaveFormat::k64>),
    FORM("FXRSTOR64", "NP REX.W 0F AE /1", "M", kFxsr,           FxRestore<FxsaveFormat::k64>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> x87_state_forms() {
  return kForms;
}

}  // namespace cella::soft
