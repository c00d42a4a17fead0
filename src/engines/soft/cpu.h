// SoftCpu: one virtual x86-64 processor executed by Cella's own software CPU.
//
// The hot state (general-purpose registers, RIP, lazily evaluated flags, effective segment
// bases) lives in plain fields; everything else is the shared x86::ArchState `arch`, whose
// gpr/rip/rflags fields are refreshed by state() and loaded by set_state().
#pragma once

#include <atomic>
#include <cstdint>

#include "cpu/x86/arch_state.h"
#include "cpu/x86/cpuid_policy.h"
#include "cpu/x86/exceptions.h"
#include "engines/soft/code_cache.h"
#include "engines/soft/insn.h"
#include "engines/soft/lazy_flags.h"
#include "engines/soft/page_mapper.h"
#include "engines/soft/tlb.h"

namespace cella::soft {

// Why run() returned.
enum class ExitReason : uint8_t {
  kNone,
  kBudget,       // executed the requested number of instructions
  kSyscall,      // SYSCALL in a process VM (RIP is past it); the host handles the call
  kFault,        // a guest exception the host handles (process VM: becomes a signal)
  kHalt,         // HLT
  kStopRequest,  // request_stop() from another thread
};

// Hooks that the embedding (process VM or machine) provides.
struct CpuEnvironment {
  // Time stamp counter value for RDTSC/RDTSCP (SDM Vol. 3B 18.17).
  uint64_t (*read_tsc)(void* context) = nullptr;
  void* context = nullptr;
  // SYSCALL leaves the run loop with ExitReason::kSyscall instead of entering a guest kernel.
  bool syscall_exits = false;
};

struct SoftCpu {
  SoftCpu(PageMapper& mapper, CodeCache& code, const x86::CpuidPolicy& cpuid,
          CpuEnvironment environment = {});

  // ---- Hot state ----
  // RAX..R15; gpr[16] (kNoRegister) is always zero, so address arithmetic needs no branch.
  uint64_t gpr[17] = {};
  uint64_t rip = 0;
  LazyFlags flags;
  // Effective base of each segment for address computation (SDM Vol. 3A 3.4.4: zero for
  // ES, CS, SS, DS in 64-bit mode).
  uint64_t segment_base[x86::kSegmentCount] = {};
  x86::Fault fault;  // the pending exception when an instruction returns Status::kFault
  Tlb tlb;

  // ---- Everything else ----
  x86::ArchState arch;
  PageMapper& mapper;
  CodeCache& code;
  const x86::CpuidPolicy& cpuid;
  CpuEnvironment environment;
  uint64_t retired = 0;                        // instructions completed
  ExitReason exit_reason = ExitReason::kNone;  // set by semantics that return Status::kExit
  std::atomic<bool> stop_requested{false};

  // ---- Execution ----
  // Runs until an exit, or until `budget` more instructions have retired.
  ExitReason run(uint64_t budget = ~uint64_t{0});
  void request_stop() { stop_requested.store(true, std::memory_order_relaxed); }

  // ---- Architectural state transfer (same struct for every engine) ----
  x86::ArchState state() const;
  void set_state(const x86::ArchState& state);

  // ---- Memory slow paths (memory.h has the inline fast paths) ----
  // Copies `size` bytes (any size, any alignment, may cross pages) between guest linear memory
  // and `data`. Checks every page before touching any, so a faulting access changes nothing.
  bool read_slow(uint64_t linear, void* data, size_t size);
  bool write_slow(uint64_t linear, const void* data, size_t size);
  // Translates the page of `linear` for `access`, through the TLB, filling it on a miss.
  bool translate(uint64_t linear, Access access, PageTranslation& out);

  // Raises a guest exception: records it and returns Status::kFault for the semantics to return.
  Status raise(x86::Vector vector) {
    fault = x86::Fault{vector, false, 0, 0};
    return Status::kFault;
  }
  Status raise(x86::Vector vector, uint32_t error_code) {
    fault = x86::Fault{vector, true, error_code, 0};
    return Status::kFault;
  }

  // Register access by operand coding (insn.h): byte offset into gpr.
  template <class T>
  T reg(uint8_t offset) const {
    T value;
    __builtin_memcpy(&value, reinterpret_cast<const uint8_t*>(gpr) + offset, sizeof(T));
    return value;
  }
  template <class T>
  void set_reg(uint8_t offset, T value) {
    // SDM Vol. 1 3.4.1.1: 32-bit results are zero-extended; 8/16-bit writes merge.
    if constexpr (sizeof(T) == 4) {
      gpr[offset / 8] = value;
    } else {
      __builtin_memcpy(reinterpret_cast<uint8_t*>(gpr) + offset, &value, sizeof(T));
    }
  }

 private:
  Block* block_at(uint64_t linear);
  Block* build_block(uint64_t linear, const PageTranslation& page);
  bool fill(uint64_t linear, Access access, PageTranslation& out);

  Block scratch_;  // an uncached block for an instruction that straddles two pages
};

}  // namespace cella::soft
