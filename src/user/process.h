// Process: one guest Linux process on the software CPU. It owns the address space, the CPU
// and the guest's signal state; run() executes the program, turning SYSCALL into host system
// calls (syscall_table.h), guest exceptions into signals, and host signals into guest
// signals delivered between instructions. fork() forks the whole process VM; execve()
// replaces it with `cella user` running the new program.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "cpu/x86/cpuid_policy.h"
#include "engines/soft/code_cache.h"
#include "engines/soft/cpu.h"
#include "user/address_space.h"
#include "user/signal_state.h"

namespace cella::user {

struct ProcessOptions {
  std::string program;            // path of the program to run
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> envp;
  uint64_t trace_instructions = 0;  // log the first N instructions
  bool trace_syscalls = false;      // log every system call (strace-like)
  bool report_stats = false;        // print instructions executed and the rate at exit
};

// Internal system-call results (the kernel's own: include/linux/errno.h). A handler returns
// one of these when a signal interrupted it; the process resolves it like Linux's
// arch_do_signal_or_restart: restart the call, or fail it with EINTR.
inline constexpr int64_t kErestartsys = 512;     // restart unless a handler without SA_RESTART ran
inline constexpr int64_t kErestartnointr = 513;  // always restart
inline constexpr int64_t kErestartnohand = 514;  // restart only if no handler ran
// A handler that has set the registers itself (rt_sigreturn) returns this.
inline constexpr int64_t kKeepRegisters = INT64_MIN;

// What the sigcontext reports about the exception behind a signal.
struct TrapInfo {
  uint64_t trapno = 0;
  uint64_t error_code = 0;
  uint64_t cr2 = 0;
};

class Process {
 public:
  // Loads the program; the error explains a missing, unreadable or non-x86-64 file, and
  // `error_number` (if given) receives the errno execve would have failed with.
  static Result<std::unique_ptr<Process>> create(const ProcessOptions& options,
                                                 int* error_number = nullptr);
  ~Process();

  // Runs the program; returns its exit status (exit_group), or does not return when a signal
  // terminates it (the emulator dies by the same signal).
  int run();

  AddressSpace& memory() { return *memory_; }
  soft::SoftCpu& cpu() { return *cpu_; }
  // The child of a fork (not sharing memory) drops its translated code: the translation
  // region is shared memory that the parent keeps writing (CodeCache::reset_after_fork).
  void reset_code_after_fork() { code_.reset_after_fork(); }
  SignalState& signals() { return signals_; }
  const ProcessOptions& options() const { return options_; }
  const std::string& executable_path() const { return executable_path_; }
  // The program's arguments as it was started (after "#!" rewriting).
  const std::vector<std::string>& arguments() const { return arguments_; }

  // ---- Used by system-call handlers ----
  void exit(int status) {
    exited_ = true;
    exit_status_ = status;
  }
  uint64_t brk_start = 0;
  uint64_t brk_current = 0;
  uint64_t clear_child_tid = 0;  // set_tid_address / CLONE_CHILD_CLEARTID
  // Drains recorded host signals into the guest's pending set; true when any arrived.
  bool take_host_signals();
  // Whether a signal is pending that `mask` lets through and that will do something (run a
  // handler, stop or terminate): such a signal ends a blocking call.
  bool signal_pending(uint64_t mask);
  // Blocks until a host signal arrives (returns at once if one is already recorded).
  void wait_for_signal();
  // A forked child starts with no pending signals.
  void discard_pending_signals();
  // Sets FS or GS base (arch_prctl).
  void set_segment_base(x86::Segment segment, uint64_t base);
  // The exception behind a pending synchronous signal, for its sigcontext.
  TrapInfo trap;
  int trap_signal = 0;

 private:
  Process();
  Result<void> load(const ProcessOptions& options, int* error_number);
  void handle_syscall();
  void handle_fault();
  // Delivers pending unblocked signals; `restart` is the interrupted call's kErestart* code
  // (0 if none) and `number` its system-call number.
  void deliver_signals(int64_t restart, uint64_t number);
  // Runs one block, logging its instructions (--trace).
  soft::ExitReason trace_block();
  // Explains a #UD at bytes the decoder does not know (an instruction the CPU lacks).
  void report_invalid_opcode();

  ProcessOptions options_;
  std::string executable_path_;
  std::vector<std::string> arguments_;
  x86::CpuidPolicy cpuid_;
  std::unique_ptr<AddressSpace> memory_;
  soft::CodeCache code_;
  std::unique_ptr<soft::SoftCpu> cpu_;
  SignalState signals_;
  bool exited_ = false;
  int exit_status_ = 0;
  uint64_t traced_ = 0;
};

}  // namespace cella::user
