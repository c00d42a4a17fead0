// SoftCpu: one virtual x86-64 processor executed by Cella's own software CPU.
//
// The hot state (general-purpose registers, RIP, lazily evaluated flags, effective segment
// bases) lives in plain fields; everything else is the shared x86::ArchState `arch`, whose
// gpr/rip/rflags fields are refreshed by state() and loaded by set_state().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "cpu/x86/arch_state.h"
#include "cpu/x86/cpuid_policy.h"
#include "cpu/x86/exceptions.h"
#include "cpu/x86/platform.h"
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
  kHalt,         // HLT (RIP is past it): the machine sleeps until an interrupt
  kStopRequest,  // request_stop() from another thread
  // Full machine only:
  kInterruptWindow,  // request_interrupt() and the CPU can take one: call deliver_interrupt()
  kTripleFault,      // an exception while delivering a double fault (SDM Vol. 3A 6.15, #DF):
                     // the processor shuts down; the machine resets or stops
  kMmioFetch,        // instruction fetch from a physical page that is not RAM
  kUnsupported,      // a mode Cella does not model yet (exit_detail names it)
};

// Hooks that the embedding (process VM or machine) provides.
struct CpuEnvironment {
  // Time stamp counter value for RDTSC/RDTSCP (SDM Vol. 3B 18.17).
  uint64_t (*read_tsc)(void* context) = nullptr;
  void* context = nullptr;
  // SYSCALL leaves the run loop with ExitReason::kSyscall instead of entering a guest kernel.
  bool syscall_exits = false;
  // Full machine: exceptions are delivered through the guest's IDT (interrupts.cc) instead of
  // leaving the run loop with ExitReason::kFault.
  bool deliver_exceptions = false;
  // Port I/O, MMIO and device MSRs; nullptr: a machine without devices (open bus).
  x86::Platform* platform = nullptr;
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
  uint64_t retired = 0;     // instructions completed
  uint64_t dispatches = 0;  // blocks the run loop started (not those reached by chaining)
  ExitReason exit_reason = ExitReason::kNone;  // set by semantics that return Status::kExit
  const char* exit_detail = "";                // kUnsupported: what
  std::atomic<bool> stop_requested{false};
  // Set by run() for translated code that chains blocks: it stops chaining when `retired`
  // would reach this, and records in `chain_request` the chain slot of an exit it took back
  // to the run loop (which fills the slot once it knows the successor).
  uint64_t retire_limit = ~uint64_t{0};
  Block::ChainSlot* chain_request = nullptr;
  // The translations of the last blocks run, by RIP, for exits whose target is known only at
  // run time (RET): the run loop records each translated block it calls, with the generations
  // of the moment, and translated code jumps through a matching valid entry.
  struct JumpCacheEntry {
    uint64_t rip = ~uint64_t{0};
    Block::ChainSlot chain;
  };
  static constexpr size_t kJumpCacheEntries = 1024;
  static constexpr size_t jump_cache_index(uint64_t rip) {
    return (rip ^ (rip >> 12)) & (kJumpCacheEntries - 1);
  }
  std::array<JumpCacheEntry, kJumpCacheEntries> jump_cache{};
  // An external interrupt is waiting (request_interrupt()): run() returns kInterruptWindow as
  // soon as the CPU can take it.
  std::atomic<bool> interrupt_requested{false};

  // ---- Interrupt state (SDM Vol. 3A 6.8) ----
  // STI (with IF clear before) and MOV SS/POP SS inhibit interrupts until the next instruction
  // completes: recognized while RIP is still the one after them.
  bool interrupt_shadow = false;
  uint64_t shadow_rip = 0;
  bool nmi_blocked = false;  // from NMI delivery to the next IRET (SDM Vol. 3A 6.7.1)
  // The pending `fault` is a software interrupt (INT n, INT3, INTO): the gate's DPL is checked
  // and error codes of faults during its delivery have EXT clear (SDM Vol. 3A 6.12.1.1, 6.13).
  bool software_interrupt = false;

  // ---- Execution ----
  // Runs until an exit, or until `budget` more instructions have retired.
  ExitReason run(uint64_t budget = ~uint64_t{0});
  void request_stop() { stop_requested.store(true, std::memory_order_relaxed); }
  // From any thread: an external interrupt is pending (true) or no longer pending (false).
  void request_interrupt(bool pending = true) {
    interrupt_requested.store(pending, std::memory_order_relaxed);
  }

  // ---- Events (full machine, interrupts.cc) ----
  // Whether an external interrupt can be delivered now: RFLAGS.IF = 1 and no interrupt shadow.
  bool interruptible() const;
  // Delivers external interrupt `vector` through the IDT if interruptible(); false otherwise.
  // A triple fault during delivery makes the next run() return kTripleFault.
  bool deliver_interrupt(uint8_t vector);
  // Delivers an NMI unless one is being handled (blocked until IRET); false when blocked.
  bool deliver_nmi();
  // Delivers the exception in `fault` (or a software interrupt, fault.software) through the
  // IDT, with the double-fault rules of SDM Vol. 3A Table 6-5. False on a triple fault.
  bool deliver_exception();

  // ---- Privilege ----
  // SDM Vol. 3A 5.5: the CPL is CS.RPL in protected mode.
  int cpl() const { return arch.segment[1].selector & 3; }
  // Loads CS/SS caches after a privilege change and selects the TLB bank of the new CPL.
  void privilege_changed() { tlb.set_user(cpl() == 3); }
  // Refreshes segment_base from arch (after FS/GS base writes).
  void sync_segment_bases();

  // The time source of the TSC (environment.read_tsc, else the host's TSC); the guest's TSC
  // is this plus arch.tsc_offset (SDM Vol. 3B 18.17).
  uint64_t time_source() const;

  // ---- Port I/O and MMIO ----
  x86::Platform& platform() { return *platform_; }

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
  uint64_t interpret(const Block& block);
  Block* build_block(uint64_t linear, const PageTranslation& page);
  bool fill(uint64_t linear, Access access, PageTranslation& out);

  void mmio_read(uint64_t physical, uint8_t* data, size_t size);
  void mmio_write(uint64_t physical, const uint8_t* data, size_t size);

  Block scratch_;  // an uncached block for an instruction that straddles two pages
  x86::Platform* platform_;
  bool shutdown_pending_ = false;  // a triple fault outside run() (deliver_interrupt)
};

}  // namespace cella::soft
