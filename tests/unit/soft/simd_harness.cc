#include "tests/unit/soft/simd_harness.h"

#include <cstring>

#include <fmt/format.h>

#include "cpu/x86/fxsave.h"
#include "engines/soft/cpuid.h"

namespace cella::testing {

namespace {

using soft::Decoder;
using soft::Encoding;
using soft::MandatoryPrefix;
using soft::OpcodeMap;
using soft::OperandKind;

constexpr uint64_t kBase = SimdHarness::kSoftBase;
constexpr uint64_t kCode = kBase;
constexpr uint64_t kRegion = SimdHarness::kSoftRegion;
constexpr int kRsi = 6, kRdi = 7;
constexpr size_t kRsiOffset = 64, kRdiOffset = 128;
constexpr size_t kMxcsrOffset = 24, kXmmOffset = 160, kStOffset = 32;

// General-purpose registers an instruction may name: not RSP, RSI, RDI (the region pointers) or
// R15 (the native runner's).
constexpr unsigned kGprChoices[] = {0, 1, 2, 3, 5, 8, 9, 10, 11, 12, 13, 14};

bool is_reg_field(OperandKind k) {
  return k == OperandKind::kV || k == OperandKind::kG || k == OperandKind::kP;
}
bool is_rm_field(OperandKind k) {
  return k == OperandKind::kW || k == OperandKind::kU || k == OperandKind::kE ||
         k == OperandKind::kR || k == OperandKind::kQ || k == OperandKind::kN ||
         k == OperandKind::kM;
}
bool is_gpr(OperandKind k) {
  return k == OperandKind::kG || k == OperandKind::kE || k == OperandKind::kR;
}
bool is_mmx(OperandKind k) {
  return k == OperandKind::kP || k == OperandKind::kQ || k == OperandKind::kN;
}

unsigned pick_register(OperandKind k, std::mt19937_64& rng) {
  if (is_gpr(k)) return kGprChoices[rng() % std::size(kGprChoices)];
  if (is_mmx(k)) return rng() % 8;
  return rng() % 16;
}

}  // namespace

std::vector<uint8_t> encode_form(uint16_t index, const OperandChoice& c) {
  const Decoder& decoder = Decoder::instance();
  const Encoding& e = decoder.encoding(index);
  const soft::OperandList& ops = decoder.form(index).operand_list;
  std::vector<uint8_t> bytes;
  switch (e.prefix) {
    case MandatoryPrefix::k66:
      bytes.push_back(0x66);
      break;
    case MandatoryPrefix::kF3:
      bytes.push_back(0xf3);
      break;
    case MandatoryPrefix::kF2:
      bytes.push_back(0xf2);
      break;
    default:
      break;
  }
  bool reg_extends = false, rm_extends = false;
  for (size_t i = 0; i < ops.count; ++i) {
    if (is_reg_field(ops[i].kind) && !is_mmx(ops[i].kind)) reg_extends = true;
    if (is_rm_field(ops[i].kind) && !is_mmx(ops[i].kind)) rm_extends = true;
  }
  uint8_t rex = 0x40;
  if (c.rex_w || e.rex_w == 1) rex |= 8;
  if (reg_extends && e.modrm_reg < 0 && (c.reg & 8)) rex |= 4;
  if (rm_extends && !c.memory && (c.rm & 8)) rex |= 1;
  if (rex != 0x40) bytes.push_back(rex);
  bytes.push_back(0x0f);
  if (e.map == OpcodeMap::k0F38) bytes.push_back(0x38);
  if (e.map == OpcodeMap::k0F3A) bytes.push_back(0x3a);
  bytes.push_back(e.opcode);
  if (e.has_modrm) {
    const unsigned reg = e.modrm_reg >= 0 ? static_cast<unsigned>(e.modrm_reg) : (c.reg & 7);
    if (c.memory) {
      bytes.push_back(static_cast<uint8_t>(0x40 | (reg << 3) | kRsi));
      bytes.push_back(static_cast<uint8_t>(c.disp));
    } else {
      const unsigned rm = e.modrm_rm >= 0 ? static_cast<unsigned>(e.modrm_rm) : (c.rm & 7);
      bytes.push_back(static_cast<uint8_t>(0xc0 | (reg << 3) | rm));
    }
  }
  for (size_t i = 0; i < ops.count; ++i) {
    if (ops[i].kind == OperandKind::kI) bytes.push_back(c.imm);
  }
  return bytes;
}

std::optional<OperandChoice> random_operands(uint16_t index, bool memory, bool misaligned,
                                             std::mt19937_64& rng) {
  const Decoder& decoder = Decoder::instance();
  const soft::FormSpec& form = decoder.form(index);
  const Encoding& e = decoder.encoding(index);
  const soft::OperandList& ops = form.operand_list;
  const bool has_memory = soft::form_has_memory_variant(ops) && e.modrm_mod != 3;
  const bool has_register = soft::form_has_register_variant(ops) && e.modrm_mod != 0;
  if (memory ? !has_memory : !has_register) return std::nullopt;
  OperandChoice c;
  c.memory = memory;
  for (size_t i = 0; i < ops.count; ++i) {
    if (is_reg_field(ops[i].kind)) c.reg = pick_register(ops[i].kind, rng);
    if (is_rm_field(ops[i].kind) && !memory) c.rm = pick_register(ops[i].kind, rng);
  }
  // A 16-byte aligned displacement within the region, or any other one.
  c.disp = static_cast<int8_t>(16 * static_cast<int>(rng() % 8) - 48);
  if (misaligned) c.disp = static_cast<int8_t>(c.disp + 1 + static_cast<int>(rng() % 15));
  c.imm = static_cast<uint8_t>(rng());
  if (e.rex_w < 0) c.rex_w = rng() % 4 == 0;
  // REX.W may select another form (MOVD/MOVQ): keep it only if the bytes still decode to this one.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::vector<uint8_t> bytes = encode_form(index, c);
    const soft::DecodeResult r = decoder.decode(bytes.data(), bytes.size());
    if (r.kind == soft::DecodeResult::Kind::kOk && r.insn.form == index) return c;
    c.rex_w = false;
  }
  return std::nullopt;
}

namespace {

uint64_t pick(std::mt19937_64& rng, std::initializer_list<uint64_t> values) {
  return *(values.begin() + rng() % values.size());
}

uint32_t random_float(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return static_cast<uint32_t>(rng());
    case 1:  // a moderate normal number
      return static_cast<uint32_t>((rng() & 0x807fffff) | ((0x70 + rng() % 32) << 23));
    default:
      return static_cast<uint32_t>(pick(
          rng, {0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x40200000, 0xc0200000,
                0x3f000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc12345, 0x7f800001,
                0xff912345, 0x7fa00000, 0x00000001, 0x007fffff, 0x80400000, 0x00800000, 0x80800000,
                0x7f7fffff, 0xff7fffff, 0x4f000000, 0xcf000000, 0x4effffff, 0xcf000001, 0x5f000000,
                0xdf000000, 0x4b800000, 0x0c000000, 0x72000000, 0x1f800000, 0x60000000}));
  }
}

uint64_t random_double(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return rng();
    case 1:
      return (rng() & 0x800fffffffffffff) | ((0x3e0 + rng() % 64) << 52);
    default:
      return pick(rng,
                  {0x0000000000000000, 0x8000000000000000, 0x3ff0000000000000, 0xbff0000000000000,
                   0x3ff8000000000000, 0x4004000000000000, 0xc004000000000000, 0x7ff0000000000000,
                   0xfff0000000000000, 0x7ff8000000000000, 0xfff8000000000000, 0x7ff8000012345678,
                   0x7ff0000000000001, 0xfff4000000000000, 0x0000000000000001, 0x000fffffffffffff,
                   0x8008000000000000, 0x0010000000000000, 0x7fefffffffffffff, 0xffefffffffffffff,
                   0x41e0000000000000, 0xc1e0000000000000, 0x41dfffffffc00000, 0xc1e0000000200000,
                   0x43e0000000000000, 0xc3e0000000000000, 0x47efffffe0000000, 0x36a0000000000000,
                   0x3690000000000000, 0x47f0000000000000, 0x3810000000000000, 0x380fffffffffffff,
                   0x43300000000000ff});
  }
}

uint64_t random_integer(std::mt19937_64& rng) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    const uint64_t byte = pick(rng, {0x00, 0x01, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x55, 0x10});
    v |= (rng() % 3 == 0 ? (rng() & 0xff) : byte) << (8 * i);
  }
  return v;
}

uint64_t random_quad(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0:
      return random_float(rng) | (uint64_t{random_float(rng)} << 32);
    case 1:
      return random_double(rng);
    case 2:
      return random_integer(rng);
    default:
      return rng();
  }
}

template <class T>
void put(uint8_t* p, size_t offset, T value) {
  std::memcpy(p + offset, &value, sizeof(T));
}
template <class T>
T get(const uint8_t* p, size_t offset) {
  T value;
  std::memcpy(&value, p + offset, sizeof(T));
  return value;
}

}  // namespace

void set_mxcsr(SimdInput& input, uint32_t mxcsr) {
  put<uint32_t>(input.state.fxsave, kMxcsrOffset, mxcsr);
}
uint32_t mxcsr_of(const SimdInput& input) {
  return get<uint32_t>(input.state.fxsave, kMxcsrOffset);
}
void set_xmm(SimdInput& input, unsigned index, uint64_t low, uint64_t high) {
  put<uint64_t>(input.state.fxsave, kXmmOffset + 16 * index, low);
  put<uint64_t>(input.state.fxsave, kXmmOffset + 16 * index + 8, high);
}

uint64_t xmm_low(const SimdInput& input, unsigned index) {
  return get<uint64_t>(input.state.fxsave, kXmmOffset + 16 * index);
}
uint64_t xmm_high(const SimdInput& input, unsigned index) {
  return get<uint64_t>(input.state.fxsave, kXmmOffset + 16 * index + 8);
}
void set_mm(SimdInput& input, unsigned index, uint64_t value) {
  put<uint64_t>(input.state.fxsave, kStOffset + 16 * index, value);
}
uint64_t st_significand(const SimdInput& input, unsigned index) {
  return get<uint64_t>(input.state.fxsave, kStOffset + 16 * index);
}
uint16_t st_exponent(const SimdInput& input, unsigned index) {
  return get<uint16_t>(input.state.fxsave, kStOffset + 16 * index + 8);
}

bool same_simd_state(const SimdInput& a, const SimdInput& b) {
  const uint8_t* x = a.state.fxsave;
  const uint8_t* y = b.state.fxsave;
  return std::memcmp(x, y, 5) == 0 && std::memcmp(x + kMxcsrOffset, y + kMxcsrOffset, 4) == 0 &&
         std::memcmp(x + kStOffset, y + kStOffset, kXmmOffset + 256 - kStOffset) == 0;
}

SimdInput zero_input(uint32_t mxcsr) {
  SimdInput in;
  put<uint16_t>(in.state.fxsave, 0, 0x037f);
  set_mxcsr(in, mxcsr);
  in.state.rflags = 0x202;
  return in;
}

SimdInput random_input(std::mt19937_64& rng, bool unmasked) {
  SimdInput in;
  uint8_t* fx = in.state.fxsave;
  put<uint16_t>(fx, 0, 0x037f);                                    // FCW: x87 exceptions masked
  put<uint16_t>(fx, 2, static_cast<uint16_t>((rng() % 8) << 11));  // FSW: a random TOP
  put<uint8_t>(fx, 4, static_cast<uint8_t>(rng()));                // abridged tags
  if (rng() % 32 == 0) {  // a pending x87 exception: FSW.ES and B with IE unmasked in FCW
    put<uint16_t>(fx, 0, 0x037e);
    put<uint16_t>(fx, 2, static_cast<uint16_t>(get<uint16_t>(fx, 2) | 0x8081));
  }
  uint32_t mxcsr = static_cast<uint32_t>((rng() % 4) << 13) | 0x1f80;
  if (rng() % 4 == 0) mxcsr |= 0x40;    // DAZ
  if (rng() % 4 == 0) mxcsr |= 0x8000;  // FTZ
  if (rng() % 2 == 0) mxcsr |= rng() % 64;
  if (unmasked) mxcsr &= ~static_cast<uint32_t>((rng() % 64) << 7);
  set_mxcsr(in, mxcsr);
  for (unsigned i = 0; i < 8; ++i) {
    put<uint64_t>(fx, kStOffset + 16 * i, random_quad(rng));
    put<uint16_t>(fx, kStOffset + 16 * i + 8, static_cast<uint16_t>(rng()));
  }
  for (unsigned i = 0; i < 16; ++i) set_xmm(in, i, random_quad(rng), random_quad(rng));
  for (auto& r : in.state.gpr) {
    r = rng() % 2 ? random_quad(rng)
                  : pick(rng, {0, 1, 0xffffffff, 0x7fffffff, 0x80000000, 0xffffffff80000000,
                               0x7fffffffffffffff, 0x8000000000000000, ~uint64_t{0}, 12345});
  }
  in.state.rflags = 0x202 | (rng() & 0x8d5);
  for (size_t i = 0; i < sizeof(in.memory); i += 8) put<uint64_t>(in.memory, i, random_quad(rng));
  return in;
}

SimdHarness::SimdHarness()
    : memory_(kBase, 0x10000), cpuid_(soft::soft_cpuid_policy()), cpu_(memory_, code_, cpuid_) {}

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
