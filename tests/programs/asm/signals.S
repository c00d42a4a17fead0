// Signal frames: a SIGSEGV handler sees the fault in siginfo and the ucontext, fixes it and
// returns through rt_sigreturn; masks, pending signals, sigtimedwait and an alternate stack.
#include "lib.inc"
        .set PAGE, 4096
        .set SIGUSR1, 10
        .set SIGSEGV, 11
        .set SIGUSR2, 12
        // Offsets in the kernel's ucontext: uc_mcontext at 40, then sigcontext fields.
        .set UC_RIP, 40+128
        .set UC_ERR, 40+152
        .set UC_TRAPNO, 40+160
        .set UC_CR2, 40+176
        .set UC_FPSTATE, 40+184
        .set UC_SIGMASK, 40+256

        .globl  _start
_start:
        lea     segv_action(%rip), %rsi
        mov     $SIGSEGV, %edi
        xor     %edx, %edx
        mov     $8, %r10d
        sys     SYS_rt_sigaction
        show    "sigaction", %rax

        xor     %edi, %edi              // a read-only page
        mov     $PAGE, %esi
        mov     $PROT_READ, %edx
        mov     $MAP_PRIVATE|MAP_ANONYMOUS, %r10d
        mov     $-1, %r8
        xor     %r9d, %r9d
        sys     SYS_mmap
        mov     %rax, page(%rip)
        mov     %rax, %rbx
        movl    16(%rbx), %eax          // touch it: the fault is then on a present page
faulting:
        movl    $0x1234, 16(%rbx)       // SIGSEGV; the handler makes the page writable
        say     "resumed after the handler"
        movl    16(%rbx), %eax
        show    "stored", %rax

        // Block SIGUSR1, send it: it stays pending until unblocked.
        lea     usr_action(%rip), %rsi
        mov     $SIGUSR1, %edi
        xor     %edx, %edx
        mov     $8, %r10d
        sys     SYS_rt_sigaction
        movq    $1<<(SIGUSR1-1), mask(%rip)
        xor     %edi, %edi              // SIG_BLOCK
        lea     mask(%rip), %rsi
        xor     %edx, %edx
        mov     $8, %r10d
        sys     SYS_rt_sigprocmask
        sys     SYS_getpid
        mov     %rax, %rdi
        mov     $SIGUSR1, %esi
        sys     SYS_kill
        say     "sent SIGUSR1 while blocked"
        lea     pending(%rip), %rdi
        mov     $8, %esi
        sys     SYS_rt_sigpending
        show    "pending", pending(%rip)
        mov     $1, %edi                // SIG_UNBLOCK: the handler runs before this returns
        lea     mask(%rip), %rsi
        xor     %edx, %edx
        mov     $8, %r10d
        sys     SYS_rt_sigprocmask
        say     "unblocked"

        // sigtimedwait takes a blocked SIGUSR2 without running anything.
        movq    $1<<(SIGUSR2-1), mask(%rip)
        xor     %edi, %edi
        lea     mask(%rip), %rsi
        xor     %edx, %edx
        mov     $8, %r10d
        sys     SYS_rt_sigprocmask
        sys     SYS_getpid
        mov     %rax, %rdi
        mov     $SIGUSR2, %esi
        sys     SYS_kill
        lea     mask(%rip), %rdi
        lea     info(%rip), %rsi
        xor     %edx, %edx
        mov     $8, %r10d
        sys     SYS_rt_sigtimedwait
        show    "sigtimedwait", %rax
        movl    info(%rip), %eax
        show    "si_signo", %rax

        // A handler on an alternate stack.
        lea     altstack(%rip), %rax
        mov     %rax, stack_t(%rip)
        movq    $0, stack_t+8(%rip)
        movq    $16384, stack_t+16(%rip)
        lea     stack_t(%rip), %rdi
        xor     %esi, %esi
        sys     SYS_sigaltstack
        show    "sigaltstack", %rax
        lea     onstack_action(%rip), %rsi
        mov     $SIGUSR1, %edi
        xor     %edx, %edx
        mov     $8, %r10d
        sys     SYS_rt_sigaction
        sys     SYS_getpid
        mov     %rax, %rdi
        mov     $SIGUSR1, %esi
        sys     SYS_kill
        say     "done"
        xor     %edi, %edi
        sys     SYS_exit_group

segv_handler:                           // RDI = signal, RSI = siginfo, RDX = ucontext
        mov     %rsi, %r12
        mov     %rdx, %r13
        show    "signal", %rdi
        movl    8(%r12), %eax
        show    "si_code", %rax
        mov     page(%rip), %rax
        add     $16, %rax
        check   "si_addr", 16(%r12), %rax
        lea     faulting(%rip), %rax
        check   "uc rip", UC_RIP(%r13), %rax
        show    "uc err", UC_ERR(%r13)
        show    "uc trapno", UC_TRAPNO(%r13)
        mov     page(%rip), %rax
        add     $16, %rax
        check   "uc cr2", UC_CR2(%r13), %rax
        mov     UC_FPSTATE(%r13), %rax
        test    %rax, %rax
        setnz   %al
        movzbl  %al, %eax
        show    "fpstate present", %rax
        mov     page(%rip), %rdi
        mov     $PAGE, %esi
        mov     $PROT_READ|PROT_WRITE, %edx
        sys     SYS_mprotect
        ret

usr_handler:
        mov     %rdx, %r12
        say     "SIGUSR1 handler"
        mov     UC_SIGMASK(%r12), %rax
        show    "mask saved in the frame", %rax
        ret

onstack_handler:
        lea     altstack(%rip), %rax
        cmp     %rax, %rsp
        jb      1f
        add     $16384, %rax
        cmp     %rax, %rsp
        jae     1f
        say     "handler runs on the alternate stack"
        ret
1:      say     "handler NOT on the alternate stack"
        ret

        .data
segv_action:    .quad segv_handler, SA_SIGINFO|SA_RESTORER, restore_rt, 0
usr_action:     .quad usr_handler, SA_SIGINFO|SA_RESTORER, restore_rt, 0
onstack_action: .quad onstack_handler, SA_SIGINFO|SA_RESTORER|SA_ONSTACK, restore_rt, 0
page:           .quad 0
mask:           .quad 0
pending:        .quad 0
stack_t:        .quad 0, 0, 0
        .bss
        .align  16
info:           .skip 128
altstack:       .skip 16384
