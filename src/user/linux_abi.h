// The Linux x86-64 user ABI as the guest sees it: the layouts that the process VM builds
// itself (signal frames, siginfo, the kernel's sigaction and stack_t, the auxiliary vector).
// Field offsets follow the kernel's UAPI headers (arch/x86/include/uapi/asm/sigcontext.h,
// ucontext.h, signal.h; include/uapi/asm-generic/siginfo.h; include/uapi/linux/auxvec.h) and
// the System V x86-64 psABI 3.4; static_asserts pin them. Flag values that are passed through
// to the host unchanged (open, mmap, ...) come from the host's headers: the host is Linux
// x86-64 too, so they are the same numbers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cella::user::abi {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr int kSignalCount = 64;  // signals 1..64 (_NSIG)

// Selectors of the flat user segments Linux x86-64 uses (arch/x86/include/asm/segment.h:
// __USER_CS = GDT entry 6 * 8 + RPL 3, __USER_DS = entry 5 * 8 + 3).
inline constexpr uint16_t kUserCs = 0x33;
inline constexpr uint16_t kUserDs = 0x2b;

// ---- Auxiliary vector (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h) ----
enum AuxType : uint64_t {
  kAtNull = 0,
  kAtPhdr = 3,
  kAtPhent = 4,
  kAtPhnum = 5,
  kAtPagesz = 6,
  kAtBase = 7,
  kAtFlags = 8,
  kAtEntry = 9,
  kAtUid = 11,
  kAtEuid = 12,
  kAtGid = 13,
  kAtEgid = 14,
  kAtPlatform = 15,
  kAtHwcap = 16,
  kAtClktck = 17,
  kAtSecure = 23,
  kAtRandom = 25,
  kAtHwcap2 = 26,
  kAtExecfn = 31,
  kAtMinsigstksz = 51,
};

// ---- Signals (arch/x86/include/uapi/asm/signal.h) ----
inline constexpr uint64_t kSaNocldstop = 0x00000001;
inline constexpr uint64_t kSaNocldwait = 0x00000002;
inline constexpr uint64_t kSaSiginfo = 0x00000004;
inline constexpr uint64_t kSaRestorer = 0x04000000;
inline constexpr uint64_t kSaOnstack = 0x08000000;
inline constexpr uint64_t kSaRestart = 0x10000000;
inline constexpr uint64_t kSaNodefer = 0x40000000;
inline constexpr uint64_t kSaResethand = 0x80000000;
inline constexpr uint64_t kSigDfl = 0;
inline constexpr uint64_t kSigIgn = 1;

inline constexpr int kSsOnstack = 1;
inline constexpr int kSsDisable = 2;
inline constexpr uint32_t kSsAutodisarm = 1u << 31;
inline constexpr uint64_t kMinSigstksz = 2048;

// The kernel's struct sigaction for rt_sigaction on x86-64 (not glibc's).
struct KernelSigaction {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};
static_assert(sizeof(KernelSigaction) == 32);

struct StackT {  // stack_t
  uint64_t sp;
  int32_t flags;
  int32_t pad;
  uint64_t size;
};
static_assert(sizeof(StackT) == 24);

// siginfo_t: 128 bytes; the union starts at offset 16 on 64-bit.
struct Siginfo {
  int32_t signo;
  int32_t errno_value;
  int32_t code;
  int32_t pad;
  union {
    struct {  // kill, tkill, rt_sigqueueinfo, SIGCHLD
      int32_t pid;
      uint32_t uid;
      int32_t status;  // SIGCHLD
    } process;
    uint64_t fault_address;  // SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP
    uint8_t bytes[112];
  } fields;
};
static_assert(sizeof(Siginfo) == 128);
static_assert(offsetof(Siginfo, fields) == 16);

// si_code values (include/uapi/asm-generic/siginfo.h).
inline constexpr int32_t kSiUser = 0;
inline constexpr int32_t kSiKernel = 0x80;
inline constexpr int32_t kSiTkill = -6;
inline constexpr int32_t kIllIllopn = 2;
inline constexpr int32_t kFpeIntdiv = 1;
inline constexpr int32_t kFpeFltdiv = 3;
inline constexpr int32_t kFpeFltovf = 4;
inline constexpr int32_t kFpeFltund = 5;
inline constexpr int32_t kFpeFltres = 6;
inline constexpr int32_t kFpeFltinv = 7;
inline constexpr int32_t kSegvMaperr = 1;
inline constexpr int32_t kSegvAccerr = 2;
inline constexpr int32_t kBusAdraln = 1;
inline constexpr int32_t kTrapBrkpt = 1;

// struct sigcontext (64-bit): general registers in the kernel's order.
struct Sigcontext {
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
  uint16_t cs, gs, fs, ss;
  uint64_t err, trapno, oldmask, cr2;
  uint64_t fpstate;  // guest address of the 512-byte FXSAVE image, or 0
  uint64_t reserved1[8];
};
static_assert(sizeof(Sigcontext) == 256);

// uc_flags bits (arch/x86/include/uapi/asm/ucontext.h).
inline constexpr uint64_t kUcSigcontextSs = 0x2;
inline constexpr uint64_t kUcStrictRestoreSs = 0x4;

struct Ucontext {  // the kernel's struct ucontext: an 8-byte signal mask
  uint64_t flags;
  uint64_t link;
  StackT stack;
  Sigcontext mcontext;
  uint64_t sigmask;
};
static_assert(offsetof(Ucontext, mcontext) == 40);
static_assert(sizeof(Ucontext) == 304);

// arch/x86/include/asm/sigframe.h, struct rt_sigframe (64-bit): the return address (the
// handler's sa_restorer) at the stack pointer, then the ucontext and the siginfo.
struct RtSigframe {
  uint64_t pretcode;
  Ucontext uc;
  Siginfo info;
};
static_assert(offsetof(RtSigframe, uc) == 8);
static_assert(offsetof(RtSigframe, info) == 312);

// Signal numbers whose defaults the process VM must know (arch/x86/include/uapi/asm/signal.h).
inline constexpr int kSigill = 4;
inline constexpr int kSigtrap = 5;
inline constexpr int kSigabrt = 6;
inline constexpr int kSigbus = 7;
inline constexpr int kSigfpe = 8;
inline constexpr int kSigkill = 9;
inline constexpr int kSigsegv = 11;
inline constexpr int kSigchld = 17;
inline constexpr int kSigcont = 18;
inline constexpr int kSigstop = 19;
inline constexpr int kSigtstp = 20;
inline constexpr int kSigttin = 21;
inline constexpr int kSigttou = 22;
inline constexpr int kSigurg = 23;
inline constexpr int kSigwinch = 28;

constexpr uint64_t sigbit(int signal) {
  return uint64_t{1} << (signal - 1);
}

}  // namespace cella::user::abi
