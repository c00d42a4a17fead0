// Compare-and-exchange and exchange-and-add: CMPXCHG XADD CMPXCHG8B CMPXCHG16B (SDM Vol. 2A
// CMPXCHG, CMPXCHG8B/CMPXCHG16B; Vol. 2B XADD). With LOCK (implied for none of them) a
// memory operand is updated atomically on host memory, so guest threads on other CPUs see
// the same atomicity as on hardware (SDM Vol. 3A 9.1.2.2).
#include <cstring>

#include "engines/soft/exec/common.h"

namespace cella::soft {

namespace {

using namespace attr;
namespace rf = x86::rflags;

constexpr uint8_t kRax = 0, kRcx = 1 * 8, kRdx = 2 * 8, kRbx = 3 * 8;

bool locked(const Insn& insn) {
  return (insn.prefixes & prefix::kLock) != 0;
}

// CMPXCHG: compare rAX with DEST (flags of CMP rAX, DEST); equal: DEST = SRC, else rAX = DEST.
// A memory destination is always written (with its own value when unequal). A register
// destination that is unequal is not written, so a 32-bit one keeps its upper half, as the
// host processor does; rAX is written (zero-extended) only when unequal.
struct CompareExchange {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const T expected = cpu.reg<T>(kRax);
    const T src = cpu.reg<T>(insn.reg);
    T old{};
    if constexpr (kMem) {
      auto op = [&](T value) {
        old = value;
        return value == expected ? src : value;
      };
      if (!modify_memory<T>(cpu, effective_address(cpu, insn), locked(insn), op)) {
        return Status::kFault;
      }
    } else {
      old = cpu.reg<T>(insn.rm);
      if (old == expected) cpu.set_reg<T>(insn.rm, src);
    }
    cpu.flags.record(FlagOp::kSub, static_cast<T>(expected - old), expected, old);
    if (old != expected) cpu.set_reg<T>(kRax, old);
    return Status::kNext;
  }
};

// XADD: TEMP = SRC + DEST; SRC = DEST; DEST = TEMP (flags of the addition). DEST is written
// last, so XADD r, r with one register leaves the sum.
struct ExchangeAdd {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const T src = cpu.reg<T>(insn.reg);
    T old{};
    if constexpr (kMem) {
      auto op = [&](T value) {
        old = value;
        return static_cast<T>(value + src);
      };
      if (!modify_memory<T>(cpu, effective_address(cpu, insn), locked(insn), op)) {
        return Status::kFault;
      }
      cpu.set_reg<T>(insn.reg, old);
    } else {
      old = cpu.reg<T>(insn.rm);
      cpu.set_reg<T>(insn.reg, old);
      cpu.set_reg<T>(insn.rm, static_cast<T>(old + src));
    }
    cpu.flags.record(FlagOp::kAdd, static_cast<T>(old + src), old, src);
    return Status::kNext;
  }
};

// CMPXCHG8B m64: compare EDX:EAX with m64; equal: m64 = ECX:EBX, else EDX:EAX = m64 (32-bit
// register writes, zero-extended; when equal, RAX and RDX are not written).
struct CompareExchange8 {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint64_t expected = (uint64_t{cpu.reg<uint32_t>(kRdx)} << 32) | cpu.reg<uint32_t>(kRax);
    const uint64_t desired = (uint64_t{cpu.reg<uint32_t>(kRcx)} << 32) | cpu.reg<uint32_t>(kRbx);
    uint64_t old = 0;
    auto op = [&](uint64_t value) {
      old = value;
      return value == expected ? desired : value;
    };
    if (!modify_memory<uint64_t>(cpu, effective_address(cpu, insn), locked(insn), op)) {
      return Status::kFault;
    }
    if (old != expected) {
      cpu.set_reg<uint32_t>(kRax, static_cast<uint32_t>(old));
      cpu.set_reg<uint32_t>(kRdx, static_cast<uint32_t>(old >> 32));
    }
    cpu.flags.set_status_bits(rf::kZf, old == expected ? rf::kZf : 0);  // others unaffected
    return Status::kNext;
  }
};

// The host's LOCK CMPXCHG16B: returns whether it stored `desired`; `expected` receives the
// old value either way. Guest pages are page-aligned host memory, so an aligned guest operand
// is an aligned host operand; a page mapper that breaks this gets a non-atomic exchange.
bool host_compare_exchange16(uint8_t* p, uint64_t expected[2], const uint64_t desired[2]) {
  if (reinterpret_cast<uintptr_t>(p) % 16 != 0) [[unlikely]] {
    uint64_t old[2];
    std::memcpy(old, p, sizeof(old));
    const bool equal = old[0] == expected[0] && old[1] == expected[1];
    std::memcpy(p, equal ? desired : old, sizeof(old));
    expected[0] = old[0];
    expected[1] = old[1];
    return equal;
  }
  bool equal;
  asm volatile("lock cmpxchg16b %[mem]"
               : [mem] "+m"(*reinterpret_cast<unsigned __int128*>(p)), "=@ccz"(equal),
                 "+a"(expected[0]), "+d"(expected[1])
               : "b"(desired[0]), "c"(desired[1])
               : "memory");
  return equal;
}

// CMPXCHG16B m128: RDX:RAX against m128, RCX:RBX stored when equal. #GP(0) if the operand is
// not 16-byte aligned (SDM Vol. 2A CMPXCHG16B). Always atomic: an aligned operand is within
// one page, and the processor writes it even when unequal (a read-only page faults).
struct CompareExchange16 {
  template <class T, bool kMem, OperandList kOps>
  static Status exec(SoftCpu& cpu, const Insn& insn) {
    const uint64_t address = effective_address(cpu, insn);
    if (address % 16 != 0) return cpu.raise(x86::Vector::kGeneralProtection, 0);
    PageTranslation page;
    if (!cpu.translate(address, Access::kWrite, page)) return Status::kFault;
    uint64_t value[2] = {cpu.gpr[0], cpu.gpr[2]};
    const uint64_t desired[2] = {cpu.gpr[3], cpu.gpr[1]};
    bool equal;
    if (page.host_page != nullptr) [[likely]] {
      equal = host_compare_exchange16(page.host_page + (address & kPageOffsetMask), value, desired);
    } else {  // MMIO: a read and a write on the bus (no device offers 16-byte atomicity)
      uint64_t old[2];
      if (!cpu.read_slow(address, old, sizeof(old))) return Status::kFault;
      equal = old[0] == value[0] && old[1] == value[1];
      if (!cpu.write_slow(address, equal ? desired : old, sizeof(old))) return Status::kFault;
      value[0] = old[0];
      value[1] = old[1];
    }
    if (!equal) {
      cpu.gpr[0] = value[0];
      cpu.gpr[2] = value[1];
    }
    cpu.flags.set_status_bits(rf::kZf, equal ? rf::kZf : 0);  // others unaffected
    return Status::kNext;
  }
};

// clang-format off
constexpr FormSpec kForms[] = {
    //   mnemonic      opcode            operands attributes semantics
    FORM("CMPXCHG",    "0F B0 /r",       "Eb,Gb", kLock,         CompareExchange),
    FORM("CMPXCHG",    "0F B1 /r",       "Ev,Gv", kLock,         CompareExchange),
    FORM("XADD",       "0F C0 /r",       "Eb,Gb", kLock,         ExchangeAdd),
    FORM("XADD",       "0F C1 /r",       "Ev,Gv", kLock,         ExchangeAdd),
    FORM("CMPXCHG8B",  "0F C7 /1",       "Mq",    kLock | kCx8,  CompareExchange8),
    FORM("CMPXCHG16B", "REX.W 0F C7 /1", "Mdq",   kLock | kCx16, CompareExchange16),
};
// clang-format on

}  // namespace

std::span<const FormSpec> atomic_forms() {
  return kForms;
}

}  // namespace cella::soft
