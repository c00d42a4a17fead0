// Runs one x87 instruction natively and on the software CPU from the same x87 state, memory
// and flags, at the same addresses (so FIP and FDP agree), and captures the outcome: the
// FNSAVE image after the instruction, the memory operand area, RAX and RFLAGS.
//
//   mov rax, [rcx]; push [rcx+8]; popfq; stmxcsr [rcx+16] (native) / 4-byte NOP (soft)
//   frstor [rdi]; <instruction, memory operand [rsi]>; fnsave [rdx]
//   mov [rcx], rax; pushfq; pop [rcx+8]; ldmxcsr [rcx+16]; ret (native) / ud2 (soft)
//
// The instruction under test sits at the same address in both, and the memory operand [rsi]
// is the start of a data area at the same address in both.
#pragma once

#include <signal.h>
#include <sys/mman.h>

#include <csetjmp>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cpu/x86/arch_state.h"
#include "engines/soft/cpu.h"
#include "engines/soft/cpuid.h"
#include "tests/support/flat_memory.h"

namespace cella::testing {

inline constexpr uint64_t kX87Base = 0x50000000;  // low, inside ASan's application range
inline constexpr uint64_t kX87Code = kX87Base;
inline constexpr uint64_t kX87Data = kX87Base + 0x1000;  // the memory operand [rsi], own page
inline constexpr size_t kX87DataSize = 1024;
inline constexpr uint64_t kX87StateIn = kX87Base + 0x2000;    // FRSTOR image
inline constexpr uint64_t kX87StateOut = kX87Base + 0x2100;   // FNSAVE image
inline constexpr uint64_t kX87Registers = kX87Base + 0x2200;  // rax, rflags, mxcsr
inline constexpr uint64_t kX87Stack = kX87Base + 0x3400;      // soft side's stack pointer
inline constexpr size_t kX87RegionSize = 0x4000;              // then an inaccessible page
inline constexpr size_t kFsaveSize = 108;
inline constexpr uint16_t kUserCs = 0x33;  // Linux x86-64 user code selector

// SDM Vol. 1 Figure 8-9 / 8-11: the 32-bit FSAVE image.
struct FsaveImage {
  std::array<uint8_t, kFsaveSize> bytes{};

  uint16_t word(size_t offset) const {
    uint16_t v;
    std::memcpy(&v, bytes.data() + offset, 2);
    return v;
  }
  void set_word(size_t offset, uint16_t v) { std::memcpy(bytes.data() + offset, &v, 2); }
  uint16_t control() const { return word(0); }
  uint16_t status() const { return word(4); }
  uint16_t tags() const { return word(8); }
  uint32_t fip() const { return word(12) | uint32_t{word(14)} << 16; }
  uint16_t fop() const { return word(18) & 0x7ff; }
  x86::Float80 st(unsigned i) const {
    x86::Float80 v;
    std::memcpy(&v.significand, bytes.data() + 28 + 10 * i, 8);
    std::memcpy(&v.sign_exponent, bytes.data() + 36 + 10 * i, 2);
    return v;
  }
  void set_st(unsigned i, const x86::Float80& v) {
    std::memcpy(bytes.data() + 28 + 10 * i, &v.significand, 8);
    std::memcpy(bytes.data() + 36 + 10 * i, &v.sign_exponent, 2);
  }
  // An image with all reserved halves set, as hardware stores them.
  static FsaveImage make(uint16_t control, uint16_t status, uint16_t tags) {
    FsaveImage image;
    for (size_t i = 0; i < 28; i += 4) {
      image.set_word(i, 0);
      image.set_word(i + 2, 0xffff);
    }
    image.set_word(0, control);
    image.set_word(4, status);
    image.set_word(8, tags);
    image.set_word(12, 0), image.set_word(14, 0), image.set_word(16, 0), image.set_word(18, 0);
    image.set_word(20, 0), image.set_word(22, 0);
    return image;
  }
};

struct X87Input {
  FsaveImage state;
  std::array<uint8_t, kX87DataSize> data{};
  uint64_t rax = 0;
  uint64_t rflags = 0x202;
};

struct X87Outcome {
  FsaveImage state;
  std::array<uint8_t, kX87DataSize> data{};
  uint64_t rax = 0;
  uint64_t rflags = 0;
  bool faulted = false;  // soft only: the instruction raised an exception
  x86::Vector vector = x86::Vector::kDivideError;
};

inline std::vector<uint8_t> x87_stub(std::span<const uint8_t> insn, bool native) {
  std::vector<uint8_t> code;
  auto append = [&](std::span<const uint8_t> bytes) {
    for (uint8_t b : bytes) code.push_back(b);
  };
  static constexpr uint8_t kEnter[] = {0x48, 0x8b, 0x01, 0xff, 0x71, 0x08, 0x9d};
  static constexpr uint8_t kSaveMxcsr[] = {0x0f, 0xae, 0x59, 0x10};  // stmxcsr [rcx+16]
  static constexpr uint8_t kNop4[] = {0x0f, 0x1f, 0x40, 0x00};       // nop dword [rax+0]
  static constexpr uint8_t kRestore[] = {0xdd, 0x27};                // frstor [rdi]
  static constexpr uint8_t kSave[] = {0xdd, 0x32, 0x48, 0x89, 0x01, 0x9c, 0x8f, 0x41, 0x08};
  static constexpr uint8_t kReturn[] = {0x0f, 0xae, 0x51, 0x10, 0xc3};  // ldmxcsr; ret
  static constexpr uint8_t kStop[] = {0x0f, 0x0b};                      // ud2
  append(kEnter);
  append(native ? std::span<const uint8_t>(kSaveMxcsr) : std::span<const uint8_t>(kNop4));
  append(kRestore);
  append(insn);
  append(kSave);
  append(native ? std::span<const uint8_t>(kReturn) : std::span<const uint8_t>(kStop));
  return code;
}
inline constexpr uint64_t kX87InsnAddress = kX87Code + 13;

// The host side: a fixed mapping at kX87Base holding the stub and the data.
class NativeX87 {
 public:
  NativeX87() {
    void* p = ::mmap(reinterpret_cast<void*>(kX87Base), kX87RegionSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != reinterpret_cast<void*>(kX87Base)) throw std::runtime_error("cannot map kX87Base");
    base_ = static_cast<uint8_t*>(p);
    // An inaccessible page after the region, as in the FlatMemory of the software side.
    void* guard = ::mmap(base_ + kX87RegionSize, 4096, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (guard != base_ + kX87RegionSize) throw std::runtime_error("cannot map the guard page");
  }
  ~NativeX87() { ::munmap(base_, kX87RegionSize + 4096); }
  NativeX87(const NativeX87&) = delete;
  NativeX87& operator=(const NativeX87&) = delete;

  X87Outcome run(std::span<const uint8_t> insn, const X87Input& in) {
    load(insn, in);
    call();
    return collect();
  }

  // Like run(), for an instruction that may fault on the host: returns the signal it raised
  // (SIGFPE for #MF, SIGSEGV for #GP, SIGILL for #UD), or 0 with `out` filled. Nothing with a
  // destructor lives across the jump.
  int run_trapping(std::span<const uint8_t> insn, const X87Input& in, X87Outcome& out) {
    load(insn, in);
    struct sigaction action {};
    action.sa_sigaction = [](int signal, siginfo_t* info, void*) {
      fault_address_ = reinterpret_cast<uint64_t>(info->si_addr);
      siglongjmp(trap_, signal);
    };
    action.sa_flags = SA_NODEFER | SA_SIGINFO;
    struct sigaction saved[3];
    const int signals[3] = {SIGFPE, SIGSEGV, SIGILL};
    for (int i = 0; i < 3; ++i) sigaction(signals[i], &action, &saved[i]);
    const int signal = sigsetjmp(trap_, 1);
    if (signal == 0) call();
    for (int i = 0; i < 3; ++i) sigaction(signals[i], &saved[i], nullptr);
    if (signal == 0) out = collect();
    return signal;
  }

 private:
  void load(std::span<const uint8_t> insn, const X87Input& in) {
    const std::vector<uint8_t> code = x87_stub(insn, true);
    ::mprotect(base_, 4096, PROT_READ | PROT_WRITE);
    std::memcpy(base_, code.data(), code.size());
    ::mprotect(base_, 4096, PROT_READ | PROT_EXEC);
    std::memcpy(at(kX87Data), in.data.data(), kX87DataSize);
    std::memcpy(at(kX87StateIn), in.state.bytes.data(), kFsaveSize);
    const uint64_t registers[3] = {in.rax, in.rflags, 0};
    std::memcpy(at(kX87Registers), registers, sizeof(registers));
  }
  void call() {
    using Stub = void (*)(void*, void*, void*, void*);
    reinterpret_cast<Stub>(base_)(at(kX87StateIn), at(kX87Data), at(kX87StateOut),
                                  at(kX87Registers));
  }
  X87Outcome collect() {
    X87Outcome out;
    std::memcpy(out.state.bytes.data(), at(kX87StateOut), kFsaveSize);
    std::memcpy(out.data.data(), at(kX87Data), kX87DataSize);
    uint64_t registers[3];
    std::memcpy(registers, at(kX87Registers), sizeof(registers));
    out.rax = registers[0];
    out.rflags = registers[1];
    return out;
  }

  uint8_t* at(uint64_t address) { return base_ + (address - kX87Base); }
  uint8_t* base_;
  static inline sigjmp_buf trap_;
  static inline uint64_t fault_address_ = 0;

 public:
  // The address of the last fault run_trapping() caught (CR2 for a page fault).
  static uint64_t fault_address() { return fault_address_; }
};

// The software CPU side: the same layout in a FlatMemory at the same linear addresses.
class SoftX87 {
 public:
  SoftX87() : cpu_(memory_, code_, policy_) {}

  soft::SoftCpu& cpu() { return cpu_; }
  FlatMemory& memory() { return memory_; }

  // Runs the stub; `prepare` may adjust the architectural state first (e.g. CR0).
  template <class Prepare>
  X87Outcome run(std::span<const uint8_t> insn, const X87Input& in, Prepare&& prepare) {
    const std::vector<uint8_t> code = x87_stub(insn, false);
    code_.clear();
    code_.collect();
    memory_.write(kX87Code, code);
    memory_.write(kX87Data, in.data);
    memory_.write(kX87StateIn, in.state.bytes);
    uint64_t registers[3] = {in.rax, in.rflags, 0};
    std::memcpy(memory_.host(kX87Registers), registers, sizeof(registers));
    x86::ArchState s;
    s.seg(x86::Segment::kCs).selector = kUserCs;
    s.reg(x86::Gpr::kRdi) = kX87StateIn;
    s.reg(x86::Gpr::kRsi) = kX87Data;
    s.reg(x86::Gpr::kRdx) = kX87StateOut;
    s.reg(x86::Gpr::kRcx) = kX87Registers;
    s.reg(x86::Gpr::kRsp) = kX87Stack;
    s.rip = kX87Code;
    prepare(s);
    cpu_.set_state(s);
    cpu_.run(1000);
    X87Outcome out;
    const uint64_t end = kX87Code + code.size() - 2;
    if (cpu_.rip != end) {
      out.faulted = true;
      out.vector = cpu_.fault.vector;
    }
    std::memcpy(out.state.bytes.data(), memory_.host(kX87StateOut), kFsaveSize);
    std::memcpy(out.data.data(), memory_.host(kX87Data), kX87DataSize);
    std::memcpy(registers, memory_.host(kX87Registers), sizeof(registers));
    out.rax = registers[0];
    out.rflags = registers[1];
    return out;
  }
  X87Outcome run(std::span<const uint8_t> insn, const X87Input& in) {
    return run(insn, in, [](x86::ArchState&) {});
  }

 private:
  FlatMemory memory_{kX87Base, kX87RegionSize};
  soft::CodeCache code_;
  x86::CpuidPolicy policy_ = soft::soft_cpuid_policy();
  soft::SoftCpu cpu_;
};

inline std::string hex(std::span<const uint8_t> bytes) {
  std::string s;
  for (uint8_t b : bytes) s += fmt::format("{:02x} ", b);
  return s;
}

inline std::string describe(const x86::Float80& v) {
  return fmt::format("{:04x}:{:016x}", v.sign_exponent, v.significand);
}

inline std::string describe(const FsaveImage& image) {
  std::string s =
      fmt::format("fcw={:04x} fsw={:04x} ftw={:04x} fip={:08x} fop={:03x}\n", image.control(),
                  image.status(), image.tags(), image.fip(), image.fop());
  for (unsigned i = 0; i < 8; ++i) s += fmt::format("  st{}={}", i, describe(image.st(i)));
  return s;
}

// Random operands that reach the corners: zeros, infinities, NaNs (quiet, signalling, the
// indefinite), denormals, pseudo-denormals, unnormals, integers, values at the edges of the
// exponent range and of the integer and trigonometric ranges.
class X87Random {
 public:
  explicit X87Random(uint64_t seed) : rng_(seed) {}

  uint64_t bits() { return rng_(); }
  unsigned below(unsigned n) { return static_cast<unsigned>(rng_() % n); }
  bool chance(unsigned percent) { return below(100) < percent; }

  x86::Float80 value() {
    const uint16_t sign = chance(50) ? 0x8000 : 0;
    uint64_t significand = bits() | (uint64_t{1} << 63);
    uint16_t exponent;
    switch (below(16)) {
      case 0:  // zero
        return {0, sign};
      case 1:  // infinity
        return {uint64_t{1} << 63, static_cast<uint16_t>(sign | 0x7fff)};
      case 2:  // quiet NaN (or the indefinite)
        return {chance(30) ? 0xc000000000000000 : significand | (uint64_t{1} << 62),
                static_cast<uint16_t>(sign | 0x7fff)};
      case 3:  // signalling NaN
        return {(significand & ~(uint64_t{1} << 62)) | 1, static_cast<uint16_t>(sign | 0x7fff)};
      case 4:  // denormal (or pseudo-denormal)
        return {chance(80) ? significand >> (1 + below(63)) : significand, sign};
      case 5:  // unsupported: unnormal, pseudo-NaN, pseudo-infinity
        return {significand >> 1,
                static_cast<uint16_t>(sign | (chance(50) ? 0x7fff : 1 + below(0x7ffe)))};
      case 6: {  // a small integer
        const uint64_t n = 1 + below(1000);
        const int shift = __builtin_clzll(n);
        return {n << shift, static_cast<uint16_t>(sign | (0x3fff + 63 - shift))};
      }
      case 7:  // huge or tiny exponent
        exponent = chance(50) ? static_cast<uint16_t>(0x7ffe - below(80))
                              : static_cast<uint16_t>(1 + below(80));
        break;
      case 8:  // around 2^15, 2^31, 2^63 (integer conversions, trigonometric range)
        exponent = static_cast<uint16_t>(0x3fff +
                                         (chance(33)   ? 15
                                          : chance(50) ? 31
                                                       : 63) -
                                         1 + below(3));
        break;
      case 9:  // exactly representable in single or double precision
        significand &= chance(50) ? 0xffffff0000000000 : 0xfffffffffffff800;
        exponent = static_cast<uint16_t>(0x3fff - 20 + below(40));
        break;
      case 10:  // near the single/double exponent limits
        exponent = static_cast<uint16_t>(
            0x3fff + (chance(50) ? 1 : -1) * (chance(50) ? 126 + below(30) : 1022 + below(60)));
        break;
      default:  // ordinary
        exponent = static_cast<uint16_t>(0x3fff - 70 + below(140));
        break;
    }
    return {significand, static_cast<uint16_t>(sign | exponent)};
  }

  // Bytes for a memory operand: float/double bit patterns of every class, integers, BCD.
  void memory(uint8_t* out, size_t size) {
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<uint8_t>(bits());
    const unsigned kind = below(8);
    if (kind == 0) {  // a float of some class
      uint32_t f = static_cast<uint32_t>(bits());
      const uint32_t exponents[] = {0, 0xff, 0x7f, 0x80, 0x01, 0xfe};
      f = (f & 0x807fffff) | exponents[below(6)] << 23;
      std::memcpy(out, &f, 4);
    } else if (kind == 1) {  // a double of some class
      uint64_t d = bits();
      const uint64_t exponents[] = {0, 0x7ff, 0x3ff, 0x400, 0x001, 0x7fe};
      d = (d & 0x800fffffffffffff) | exponents[below(6)] << 52;
      std::memcpy(out, &d, 8);
    } else if (kind == 2) {  // a small integer
      const int64_t n = static_cast<int64_t>(below(2001)) - 1000;
      std::memcpy(out, &n, 8);
    } else if (kind == 3) {  // an 80-bit value
      const x86::Float80 v = value();
      std::memcpy(out, &v.significand, 8);
      std::memcpy(out + 8, &v.sign_exponent, 2);
    } else if (kind == 4) {  // packed BCD, usually valid
      for (int i = 0; i < 9; ++i) out[i] = static_cast<uint8_t>(below(10) << 4 | below(10));
      out[9] = chance(50) ? 0x80 : 0;
    }
  }

  // A control word: random masks (all masked half of the time), precision and rounding.
  uint16_t control() {
    uint16_t masks = chance(50) ? 0x3f : static_cast<uint16_t>(bits() & 0x3f);
    const uint16_t precision = static_cast<uint16_t>(chance(10) ? 1 : below(4));
    const uint16_t rounding = static_cast<uint16_t>(below(4));
    return static_cast<uint16_t>(masks | 0x40 | precision << 8 | rounding << 10 |
                                 (chance(10) ? 0x1000 : 0));
  }

  // An input state: some registers empty (so pushes overflow and reads underflow), flags
  // raised only where masked (otherwise the instruction itself would take #MF).
  X87Input input(bool memory_operand_allowed = true) {
    X87Input in;
    const uint16_t control = this->control();
    const uint16_t flags = static_cast<uint16_t>(bits() & control & 0x3f);
    const uint16_t conditions = static_cast<uint16_t>(bits() & 0x4700);
    const uint16_t top = static_cast<uint16_t>(below(8));
    uint16_t tags = 0;
    const unsigned empty_percent = below(3) == 0 ? 50 : 10;
    for (unsigned p = 0; p < 8; ++p) {
      if (chance(empty_percent)) tags |= static_cast<uint16_t>(3u << (2 * p));
    }
    in.state =
        FsaveImage::make(control, static_cast<uint16_t>(flags | conditions | top << 11), tags);
    // Pointers, selectors and FOP as a previous instruction left them (FRSTOR loads them).
    for (size_t offset : {12, 14, 16, 20, 22, 24}) {
      in.state.set_word(offset, static_cast<uint16_t>(bits()));
    }
    in.state.set_word(18, static_cast<uint16_t>(bits() & 0x7ff));
    for (unsigned i = 0; i < 8; ++i) in.state.set_st(i, value());
    if (memory_operand_allowed) {
      for (auto& b : in.data) b = static_cast<uint8_t>(bits());
      memory(in.data.data(), 16);
    }
    in.rflags = 0x202 | (bits() & 0x8d5);  // CF PF AF ZF SF OF
    in.rax = bits();
    return in;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace cella::testing
