#include "user/process.h"

#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <set>

#include "base/log.h"
#include "engines/soft/cpuid.h"
#include "user/elf_loader.h"
#include "user/executable.h"
#include "user/host_signals.h"
#include "user/initial_stack.h"
#include "user/linux_abi.h"
#include "user/signal_frame.h"
#include "user/syscall_table.h"

namespace cella::user {

namespace {

using x86::Gpr;

constexpr uint64_t kMiB = uint64_t{1} << 20;
// Linux mm/util.c mmap_base: at least 128 MiB between the stack limit and the mmap area.
constexpr uint64_t kMinStackGap = 128 * kMiB;

// The stack is mapped at its full RLIMIT_STACK size (memory is committed only when touched),
// between 128 KiB and 1 GiB; an unlimited stack gets 8 MiB.
uint64_t stack_size() {
  rlimit limit{};
  if (getrlimit(RLIMIT_STACK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 8 * kMiB;
  return std::clamp<uint64_t>(page_up(limit.rlim_cur), 128 * 1024, 1024 * kMiB);
}

std::string absolute_path(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

// The register state Linux gives a new x86-64 process (arch/x86/kernel/process_64.c
// start_thread: flat user segments, IF set, everything else zero) on a CPU in 64-bit mode
// with paging, SSE enabled (SDM Vol. 3A 2.5, 13.1.3).
x86::ArchState initial_state(uint64_t entry, uint64_t sp) {
  x86::ArchState s;
  s.rip = entry;
  s.reg(Gpr::kRsp) = sp;
  s.rflags = x86::rflags::kReserved1 | x86::rflags::kIf;
  // SDM Vol. 3C 24.4.1 attribute format: code = type 0xb, S, DPL 3, P, L, G; data = type 3.
  for (auto& segment : s.segment) segment = x86::SegmentRegister{0, 0, 0xffffffff, 0xc0f3};
  s.seg(x86::Segment::kCs) = x86::SegmentRegister{abi::kUserCs, 0, 0xffffffff, 0xa0fb};
  s.seg(x86::Segment::kSs).selector = abi::kUserDs;
  s.cr0 = 0x80050033;  // PG, AM, WP, NE, ET, MP, PE
  s.cr4 = 0x620;       // OSXMMEXCPT, OSFXSR, PAE
  s.efer = 0xd01;      // NXE, LMA, LME, SCE
  return s;
}

}  // namespace

Process::Process() : cpuid_(soft::soft_cpuid_policy()) {}

Process::~Process() {
  set_signal_cpu(nullptr);
}

Result<std::unique_ptr<Process>> Process::create(const ProcessOptions& options, int* error_number) {
  std::unique_ptr<Process> process(new Process());
  int error = 0;
  auto loaded = process->load(options, &error);
  if (error_number != nullptr) *error_number = error;
  if (!loaded) return loaded.error();
  return process;
}

Result<void> Process::load(const ProcessOptions& options, int* error_number) {
  options_ = options;
  CELLA_TRY_ASSIGN(memory, AddressSpace::create());
  memory_ = std::move(memory);
  soft::CpuEnvironment environment;
  environment.syscall_exits = true;
  cpu_ = std::make_unique<soft::SoftCpu>(*memory_, code_, cpuid_, environment);
  memory_->attach(&cpu_->tlb, &code_);

  auto opened = open_executable(options.program, options.argv);
  if (auto* failure = std::get_if<ExecFailure>(&opened)) {
    *error_number = failure->error_number;
    return failure->error;
  }
  const Executable& exe = std::get<Executable>(opened);
  executable_path_ = absolute_path(exe.path);
  arguments_ = exe.argv;

  // Layout (Linux's top-down layout): the stack at the top, mmap below it, position-
  // independent programs at two thirds of the space, the heap after the program.
  const uint64_t stack_bytes = stack_size();
  const uint64_t stack_top = memory_->size() - abi::kPageSize;
  memory_->set_mmap_top(page_down(stack_top - std::max(stack_bytes, kMinStackGap) - 16 * kMiB));
  CELLA_TRY_ASSIGN(program, load_elf(*memory_, exe, page_down(memory_->size() / 3 * 2)));
  uint64_t entry = program.entry, interpreter_base = 0;
  if (!exe.image.interpreter.empty()) {
    auto interpreter = open_elf(exe.image.interpreter);
    if (auto* failure = std::get_if<ExecFailure>(&interpreter)) {
      *error_number = failure->error_number;
      return failure->error.context(fmt::format("{}: interpreter", exe.path));
    }
    const Executable& ld = std::get<Executable>(interpreter);
    if (!ld.image.interpreter.empty()) {
      return make_error("{}: the interpreter {} has an interpreter itself", exe.path, ld.path);
    }
    CELLA_TRY_ASSIGN(loaded, load_elf(*memory_, ld, 0));
    entry = loaded.entry;
    interpreter_base = loaded.bias;
  }
  brk_start = brk_current = program.end;

  MapRequest stack{
      .address = stack_top - stack_bytes,
      .length = stack_bytes,
      .protection = prot::kRead | prot::kWrite | (exe.image.executable_stack ? prot::kExec : 0),
      .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
      .fd = -1,
      .offset = 0,
      .name = "[stack]"};
  if (const int64_t r = memory_->map(stack); r < 0) {
    return make_error("cannot map the stack: {}", std::strerror(static_cast<int>(-r)));
  }
  InitialStack init;
  init.argv = exe.argv;
  init.envp = options.envp;
  init.execfn = exe.execfn;
  if (getrandom(init.random.data(), init.random.size(), 0) != 16) {
    return errno_error("getrandom");
  }
  const uint64_t hwcap = cpuid_.query(1, 0).edx;  // AT_HWCAP on x86: CPUID.1:EDX
  init.auxv = {
      {abi::kAtHwcap, hwcap},
      {abi::kAtPagesz, abi::kPageSize},
      {abi::kAtClktck, static_cast<uint64_t>(sysconf(_SC_CLK_TCK))},
      {abi::kAtPhdr, program.phdr},
      {abi::kAtPhent, 56},
      {abi::kAtPhnum, exe.image.phnum},
      {abi::kAtBase, interpreter_base},
      {abi::kAtFlags, 0},
      {abi::kAtEntry, program.entry},
      {abi::kAtUid, getuid()},
      {abi::kAtEuid, geteuid()},
      {abi::kAtGid, getgid()},
      {abi::kAtEgid, getegid()},
      {abi::kAtSecure, 0},
      {abi::kAtHwcap2, 0},  // no FSGSBASE in user mode
      {abi::kAtMinsigstksz, abi::kMinSigstksz},
  };
  CELLA_TRY_ASSIGN(sp, build_initial_stack(*memory_, stack_top - stack_bytes, stack_top, init));
  cpu_->set_state(initial_state(entry, sp));

  // Signals: the mask and ignored signals carry over from whoever started us (execve(2));
  // everything else the host catches for the guest.
  uint64_t inherited_mask = 0;
  const uint64_t empty = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &empty, &inherited_mask, sizeof empty);
  signals_.set_blocked(inherited_mask);
  for (int signal = 1; signal <= abi::kSignalCount; ++signal) {
    if (host_ignores(signal)) {
      signals_.set_action(signal, abi::KernelSigaction{abi::kSigIgn, 0, 0, 0});
    } else {
      set_host_disposition(signal, abi::kSigDfl, 0);
    }
  }
  return ok();
}

void Process::set_segment_base(x86::Segment segment, uint64_t base) {
  cpu_->segment_base[static_cast<int>(segment)] = base;
  cpu_->arch.seg(segment).base = base;
}

int Process::run() {
  const auto start = std::chrono::steady_clock::now();
  set_signal_cpu(cpu_.get());
  while (!exited_) {
    soft::ExitReason reason;
    if (traced_ < options_.trace_instructions) {
      reason = trace_block();
    } else {
      reason = cpu_->run();
    }
    if (reason == soft::ExitReason::kSyscall) {
      handle_syscall();
      continue;
    }
    if (reason == soft::ExitReason::kFault) handle_fault();
    take_host_signals();
    deliver_signals(0, 0);
  }
  set_signal_cpu(nullptr);
  if (options_.report_stats) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print(stderr, "cella: {} instructions in {:.3f} s ({:.1f} MIPS)\n", cpu_->retired, seconds,
               static_cast<double>(cpu_->retired) / seconds / 1e6);
  }
  return exit_status_;
}

void Process::handle_syscall() {
  soft::SoftCpu& cpu = *cpu_;
  SyscallArgs args;
  args.number = cpu.gpr[static_cast<int>(Gpr::kRax)];
  // The Linux x86-64 system-call convention (psABI A.2.1): RDI, RSI, RDX, R10, R8, R9.
  static constexpr Gpr kArgs[6] = {Gpr::kRdi, Gpr::kRsi, Gpr::kRdx, Gpr::kR10, Gpr::kR8, Gpr::kR9};
  for (int i = 0; i < 6; ++i) args.arg[i] = cpu.gpr[static_cast<int>(kArgs[i])];
  const SyscallSpec* spec = find_syscall(args.number);
  int64_t result;
  if (spec != nullptr) {
    result = spec->handler(*this, *spec, args);
  } else {
    static std::set<uint64_t> logged;
    if (logged.insert(args.number).second) {
      log::warn("system call {} is not implemented (ENOSYS)", args.number);
    }
    result = -ENOSYS;
  }
  if (options_.trace_syscalls) {
    fmt::print(stderr, "[{}] {}\n", getpid(), format_syscall(*this, spec, args, result));
  }
  if (exited_) return;
  int64_t restart = 0;
  if (result == -kErestartsys || result == -kErestartnohand || result == -kErestartnointr) {
    restart = -result;
    cpu.gpr[static_cast<int>(Gpr::kRax)] = static_cast<uint64_t>(-EINTR);
  } else if (result != kKeepRegisters) {
    cpu.gpr[static_cast<int>(Gpr::kRax)] = static_cast<uint64_t>(result);
  }
  take_host_signals();
  deliver_signals(restart, args.number);
}

}  // namespace cella::user
