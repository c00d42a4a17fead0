// The system-call handlers that syscall_table.cc names, grouped by the file that implements
// them. Each returns the guest's result (a value or -errno), one of the restart codes of
// process.h, or kKeepRegisters.
#pragma once

#include "user/syscall_table.h"

namespace cella::user {

#define CELLA_HANDLER(name) int64_t name(Process&, const SyscallSpec&, SyscallArgs&)

// syscall_table.cc
CELLA_HANDLER(pass);   // the generic pass-through, driven by the argument kinds
CELLA_HANDLER(nosys);  // ENOSYS, on purpose (documented, not logged)

// sys_memory.cc
CELLA_HANDLER(sys_mmap);
CELLA_HANDLER(sys_munmap);
CELLA_HANDLER(sys_mprotect);
CELLA_HANDLER(sys_mremap);
CELLA_HANDLER(sys_brk);
CELLA_HANDLER(sys_madvise);
CELLA_HANDLER(sys_memory_range);  // msync, mlock, munlock, mlock2: a guest range, then the host

// sys_signal.cc
CELLA_HANDLER(sys_rt_sigaction);
CELLA_HANDLER(sys_rt_sigprocmask);
CELLA_HANDLER(sys_rt_sigreturn);
CELLA_HANDLER(sys_rt_sigpending);
CELLA_HANDLER(sys_rt_sigsuspend);
CELLA_HANDLER(sys_rt_sigtimedwait);
CELLA_HANDLER(sys_sigaltstack);
CELLA_HANDLER(sys_pause);

// sys_wait.cc: calls that block with a timeout or a temporary signal mask
CELLA_HANDLER(sys_nanosleep);
CELLA_HANDLER(sys_clock_nanosleep);
CELLA_HANDLER(sys_select);
CELLA_HANDLER(sys_pselect6);
CELLA_HANDLER(sys_ppoll);
CELLA_HANDLER(sys_epoll_pwait);
CELLA_HANDLER(sys_futex);

// sys_process.cc
CELLA_HANDLER(sys_exit);
CELLA_HANDLER(sys_clone);
CELLA_HANDLER(sys_fork);
CELLA_HANDLER(sys_vfork);
CELLA_HANDLER(sys_execve);
CELLA_HANDLER(sys_arch_prctl);
CELLA_HANDLER(sys_set_tid_address);
CELLA_HANDLER(sys_set_robust_list);
CELLA_HANDLER(sys_prctl);

// sys_file.cc
CELLA_HANDLER(sys_open);  // open, openat: the guest's own /proc files, else pass
CELLA_HANDLER(sys_ioctl);
CELLA_HANDLER(sys_fcntl);
CELLA_HANDLER(sys_rw_vector);  // readv, writev, preadv, pwritev, preadv2, pwritev2
CELLA_HANDLER(sys_readlink);   // readlink, readlinkat
CELLA_HANDLER(sys_msg);        // sendmsg, recvmsg

#undef CELLA_HANDLER

}  // namespace cella::user
