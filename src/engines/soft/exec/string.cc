// String instructions: MOVS CMPS SCAS LODS STOS INS OUTS with REP/REPE/REPNE (SDM Vol. 2B, each
// instruction's page and REP/REPE/REPZ/REPNE/REPNZ; Vol. 1 7.3.9).
//
// - The source is DS:rSI (segment overridable), the destination ES:rDI; both advance by the
//   element size, backwards when RFLAGS.DF is set. With a 67 prefix the address size is 32:
//   ESI, EDI and ECX are used and written as 32-bit registers (zero-extended, as the host
//   processor does; with ECX = 0 nothing is written).
// - A repeated instruction is interruptible (SDM Vol. 1 7.3.9.2): each execution processes a
//   bounded amount, then returns with RIP unchanged and rCX, rSI, rDI updated, so the run loop
//   can stop or take an interrupt and re-execute it. A fault leaves the registers at the
//   faulting iteration, so re-executing the instruction resumes it exactly.
// - F2 before MOVS/LODS/STOS repeats like F3, as processors do (the SDM leaves it undefined).
// - REP MOVS and REP STOS move page-contiguous chunks through the TLB (glibc's memcpy and
//   memset use REP MOVSB/STOSB, advertised as fast by CPUID.ERMS).
#include <algorithm>
#include <cstring>

#include "engines/soft/exec/system.h"

namespace cella::soft {

namespace {

using namespace attr;

constexpr int kRcx = 1, kRsi = 6, kRdi = 7;
constexpr int kEs = static_cast<int>(x86::Segment::kEs);

// How many elements from `offset` in a region of `size` bytes onwards (downwards when
// backward) lie inside it: 0 if the first one straddles its end.
template <class T>
uint64_t elements_within(uint64_t offset, uint64_t size, bool backward) {
  if (offset + sizeof(T) > size) return 0;
  return backward ? offset / sizeof(T) + 1 : (size - offset) / sizeof(T);
}

// The string registers of one instruction, at its address size and direction.
class StringRegs {
 public:
  StringRegs(SoftCpu& cpu, const Insn& insn, unsigned element_size)
      : cpu_(cpu),
        address32_((insn.prefixes & prefix::kAddr32) != 0),
        backward_((cpu.flags.other & x86::rflags::kDf) != 0),
        step_(backward_ ? uint64_t{0} - element_size : element_size),
        source_base_(cpu.segment_base[insn.segment]),
        destination_base_(cpu.segment_base[kEs]) {}

  bool backward() const { return backward_; }
  uint64_t source() const { return source_base_ + get(kRsi); }
  uint64_t destination() const { return destination_base_ + get(kRdi); }
  void advance_source(uint64_t n = 1) { set(kRsi, get(kRsi) + step_ * n); }
  void advance_destination(uint64_t n = 1) { set(kRdi, get(kRdi) + step_ * n); }
  uint64_t count() const { return get(kRcx); }
  void set_count(uint64_t value) { set(kRcx, value); }
  // How many elements from the source (destination) onwards lie in its page, without the
  // offset wrapping around at 4 GiB with 32-bit addressing: one run of REP MOVS/STOS.
  template <class T>
  uint64_t source_run() const {
    return run<T>(kRsi, source());
  }
  template <class T>
  uint64_t destination_run() const {
    return run<T>(kRdi, destination());
  }

 private:
  uint64_t get(int r) const {
    return address32_ ? static_cast<uint32_t>(cpu_.gpr[r]) : cpu_.gpr[r];
  }
  void set(int r, uint64_t value) {
    cpu_.gpr[r] = address32_ ? static_cast<uint32_t>(value) : value;
  }
  template <class T>
  uint64_t run(int r, uint64_t linear) const {
    const uint64_t in_page = elements_within<T>(linear & kPageOffsetMask, kPageSize, backward_);
    if (!address32_) return in_page;
    return std::min(in_page, elements_within<T>(get(r), uint64_t{1} << 32, backward_));
  }

  SoftCpu& cpu_;
  bool address32_, backward_;
  uint64_t step_;
  uint64_t source_base_, destination_base_;
};

// ---- One iteration of each instruction: false on a fault (then nothing changed) ----

struct MovsOp {
  template <class T>
  static bool once(SoftCpu& cpu, StringRegs& regs) {
    T value{};
    if (!read_memory(cpu, regs.source(), value)) return false;
    if (!write_memory(cpu, regs.destination(), value)) return false;
    regs.advance_source();
    regs.advance_destination();
    return true;
  }

  // Up to one page of iterations: REP MOVS on whole page-contiguous runs. Copying in one go
  // equals copying element by element unless the destination lies ahead of the source (in
  // the direction of the copy) by less than the run: then the run is cut to that distance.
  template <class T>
  static bool repeat(SoftCpu& cpu, StringRegs& regs, uint64_t& count) {
    const uint64_t src = regs.source(), dst = regs.destination();
    uint64_t n = std::min({count, regs.source_run<T>(), regs.destination_run<T>()});
    if (n == 0) {  // an element across a page boundary or the 32-bit wrap-around
      if (!once<T>(cpu, regs)) return false;
      regs.set_count(--count);
      return true;
    }
    PageTranslation from, to;
    if (!cpu.translate(src, Access::kRead, from) || !cpu.translate(dst, Access::kWrite, to)) {
      return false;
    }
    if (from.host_page == nullptr || to.host_page == nullptr) {  // MMIO: one access at a time
      if (!once<T>(cpu, regs)) return false;
      regs.set_count(--count);
      return true;
    }
    auto host_from = reinterpret_cast<uintptr_t>(from.host_page + (src & kPageOffsetMask));
    auto host_to = reinterpret_cast<uintptr_t>(to.host_page + (dst & kPageOffsetMask));
    const uintptr_t ahead = regs.backward() ? host_from - host_to : host_to - host_from;
    if (ahead != 0 && ahead < n * sizeof(T)) n = std::max<uint64_t>(1, ahead / sizeof(T));
    if (regs.backward()) {
      host_from -= (n - 1) * sizeof(T);
      host_to -= (n - 1) * sizeof(T);
    }
    std::memmove(reinterpret_cast<void*>(host_to), reinterpret_cast<const void*>(host_from),
                 n * sizeof(T));
    regs.advance_source(n);
    regs.advance_destination(n);
    regs.set_count(count -= n);
    return true;
  }
  static constexpr unsigned kRepeatsPerExecution = 16;  // pages
  static constexpr bool kCompares = false;
};

struct StosOp {
  template <class T>
  static bool once(SoftCpu& cpu, StringRegs& regs) {
    if (!write_memory(cpu, regs.destination(), cpu.reg<T>(0))) return false;
    regs.advance_destination();
    return true;
  }

  // Up to one page of iterations: REP STOS fills page-contiguous runs.
  template <class T>
  static bool repeat(SoftCpu& cpu, StringRegs& regs, uint64_t& count) {
    const uint64_t dst = regs.destination();
    const uint64_t n = std::min(count, regs.destination_run<T>());
    if (n == 0) {
      if (!once<T>(cpu, regs)) return false;
      regs.set_count(--count);
      return true;
    }
    PageTranslation to;
    if (!cpu.translate(dst, Access::kWrite, to)) return false;
    if (to.host_page == nullptr) {  // MMIO: one access at a time
      if (!once<T>(cpu, regs)) return false;
      regs.set_count(--count);
      return true;
    }
    uint8_t* host_to = to.host_page + (dst & kPageOffsetMask);
    if (regs.backward()) host_to -= (n - 1) * sizeof(T);
    const T value = cpu.reg<T>(0);
    if constexpr (sizeof(T) == 1) {
      std::memset(host_to, value, n);
    } else {
      for (uint64_t i = 0; i < n; ++i) std::memcpy(host_to + i * sizeof(T), &value, sizeof(T));
    }
    regs.advance_destination(n);
    regs.set_count(count -= n);
    return true;
  }
  static constexpr unsigned kRepeatsPerExecution = 16;  // pages
  static constexpr bool kCompares = false;
};

// The remaining instructions repeat element by element.
template <class Op>
struct ElementByElement {
  template <class T>
  static bool repeat(SoftCpu& cpu, StringRegs& regs, uint64_t& count) {
    if (!Op::template once<T>(cpu, regs)) return false;
    regs.set_count(--count);
    return true;
  }
  static constexpr unsigned kRepeatsPerExecution = 1024;
};

struct LodsOp : ElementByElement<LodsOp> {
  template <class T>
  static bool once(SoftCpu& cpu, StringRegs& regs) {
    T value{};
    if (!read_memory(cpu, regs.source(), value)) return false;
    cpu.set_reg<T>(0, value);
    regs.advance_source();
    return true;
  }
  static constexpr bool kCompares = false;
};

// CMPS: the flags of CMP [rSI], [rDI].
struct CmpsOp : ElementByElement<CmpsOp> {
  template <class T>
  static bool once(SoftCpu& cpu, StringRegs& regs) {
    T a{}, b{};
    if (!read_memory(cpu, regs.source(), a) || !read_memory(cpu, regs.destination(), b)) {
      return false;
    }
    cpu.flags.record(FlagOp::kSub, static_cast<T>(a - b), a, b);
    regs.advance_source();
    regs.advance_destination();
    return true;
  }
  static constexpr bool kCompares = true;
};

// SCAS: the flags of CMP rAX, [rDI].
struct ScasOp : ElementByElement<ScasOp> {
  template <class T>
  static bool once(SoftCpu& cpu, StringRegs& regs) {
    T b{};
    if (!read_memory(cpu, regs.destination(), b)) return false;
    const T a = cpu.reg<T>(0);
    cpu.flags.record(FlagOp::kSub, static_cast<T>(a - b), a, b);
    regs.advance_destination();
    return true;
  }
  static constexpr bool kCompares = true;
};

// INS: port DX to ES:rDI. The destination is checked before the port is read, so a fault
// does not consume device data.
struct InsOp : ElementByElement<InsOp> {
  template <class T>
  static bool once(SoftCpu& cpu, StringRegs& regs) {
    PageTranslation probe;
    if (!cpu.translate(regs.destination(), Access::kWrite, probe)) return false;
    const auto port = static_cast<uint16_t>(cpu.gpr[2]);
    const auto value = static_cast<T>(cpu.platform().port_read(port, sizeof(T)));
    if (!write_memory(cpu, regs.destination(), value)) return false;
    regs.advance_destination();
    return true;
  }
  static constexpr bool kCompares = false;
};

// OUTS: DS:rSI (segment overridable) to port DX.
struct OutsOp : ElementByElement<OutsOp> {
  template <class T>
  static bool once(SoftCpu& cpu, StringRegs& regs) {
    T value{};
    if (!read_memory(cpu, regs.source(), value)) return false;
    cpu.platform().port_write(static_cast<uint16_t>(cpu.gpr[2]), sizeof(T), value);
    regs.advance_source();
    return true;
  }
  static constexpr bool kCompares = false;
};

template <class Op>
struct StringInstruction {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    if constexpr (std::is_same_v<Op, InsOp> || std::is_same_v<Op, OutsOp>) {
      if constexpr (sizeof(T) == 8) return exec<uint32_t, kMem, kOps>(cpu, insn);  // REX.W
      if (!io_allowed(cpu, static_cast<uint16_t>(cpu.gpr[2]), sizeof(T))) return Status::kFault;
    }
    StringRegs regs(cpu, insn, sizeof(T));
    if ((insn.prefixes & (prefix::kRep | prefix::kRepne)) == 0) {
      return Op::template once<T>(cpu, regs) ? Status::kNext : Status::kFault;
    }
    uint64_t count = regs.count();
    if (count == 0) return Status::kNext;
    // REPE/REPZ (F3) stops when ZF = 0, REPNE/REPNZ (F2) when ZF = 1: CMPS and SCAS only.
    const Condition stop = (insn.prefixes & prefix::kRep) ? Condition::kNe : Condition::kE;
    for (unsigned i = 0; i < Op::kRepeatsPerExecution; ++i) {
      if (!Op::template repeat<T>(cpu, regs, count)) return Status::kFault;
      if (count == 0) return Status::kNext;
      if constexpr (Op::kCompares) {
        if (cpu.flags.test(stop)) return Status::kNext;
      }
    }
    return Status::kBranch;  // RIP unchanged: the rest runs when the instruction re-executes
  }
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic opcode operands  attributes semantics
    FORM("MOVS", "A4", "Yb,Xb",  kRep,           StringInstruction<MovsOp>),
    FORM("MOVS", "A5", "Yv,Xv",  kRep,           StringInstruction<MovsOp>),
    FORM("CMPS", "A6", "Xb,Yb",  kRep,           StringInstruction<CmpsOp>),
    FORM("CMPS", "A7", "Xv,Yv",  kRep,           StringInstruction<CmpsOp>),
    FORM("STOS", "AA", "Yb,AL",  kRep,           StringInstruction<StosOp>),
    FORM("STOS", "AB", "Yv,rAX", kRep,           StringInstruction<StosOp>),
    FORM("LODS", "AC", "AL,Xb",  kRep,           StringInstruction<LodsOp>),
    FORM("LODS", "AD", "rAX,Xv", kRep,           StringInstruction<LodsOp>),
    FORM("SCAS", "AE", "AL,Yb",  kRep,           StringInstruction<ScasOp>),
    FORM("SCAS", "AF", "rAX,Yv", kRep,           StringInstruction<ScasOp>),
    FORM("INS",  "6C", "Yb,DX",  kRep | kNoDiff, StringInstruction<InsOp>),
    FORM("INS",  "6D", "Yz,DX",  kRep | kNoDiff, StringInstruction<InsOp>),
    FORM("OUTS", "6E", "DX,Xb",  kRep | kNoDiff, StringInstruction<OutsOp>),
    FORM("OUTS", "6F", "DX,Xz",  kRep | kNoDiff, StringInstruction<OutsOp>),
};
// clang-format on

}  // namespace

std::span<const FormSpec> string_forms() {
  return kForms;
}

}  // namespace cella::soft
