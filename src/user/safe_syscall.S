// cella_safe_syscall: a host system call that a guest signal cannot slip past.
//
// int64_t cella_safe_syscall(const volatile int* pending, int64_t number,
//                            uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
//                            uint64_t a5, uint64_t a6);
//
// Returns the raw kernel result (-errno on failure). If *pending is set when the call is about
// to start, it returns -EINTR without entering the kernel. The host signal handler closes the
// remaining window: when it interrupts this function between the check and the SYSCALL
// instruction (cella_safe_syscall_start <= RIP < cella_safe_syscall_end), it moves RIP to
// cella_safe_syscall_interrupted. So a signal that arrives before a blocking call either makes
// the call return -EINTR at once or interrupts it in the kernel: it is never left waiting.
//
// Linux x86-64 system-call convention (System V psABI A.2.1): number in RAX, arguments in
// RDI, RSI, RDX, R10, R8, R9; the kernel clobbers RCX and R11.

        .text
        .globl  cella_safe_syscall
        .type   cella_safe_syscall, @function
        .globl  cella_safe_syscall_start
        .globl  cella_safe_syscall_end
        .globl  cella_safe_syscall_interrupted
cella_safe_syscall:
        .cfi_startproc
        push    %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %rbx, 0
        mov     %rdi, %rbx              // pending
        mov     %rsi, %rax              // number
        mov     %rdx, %rdi              // a1
        mov     %rcx, %rsi              // a2
        mov     %r8, %rdx               // a3
        mov     %r9, %r10               // a4
        mov     16(%rsp), %r8           // a5 (above the return address and the saved RBX)
        mov     24(%rsp), %r9           // a6
cella_safe_syscall_start:
        cmpl    $0, (%rbx)
        jne     cella_safe_syscall_interrupted
        syscall
cella_safe_syscall_end:
        pop     %rbx
        .cfi_adjust_cfa_offset -8
        .cfi_restore %rbx
        ret
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %rbx, 0
cella_safe_syscall_interrupted:
        mov     $-4, %rax               // -EINTR
        pop     %rbx
        .cfi_adjust_cfa_offset -8
        .cfi_restore %rbx
        ret
        .cfi_endproc
        .size   cella_safe_syscall, .-cella_safe_syscall

        .section .note.GNU-stack, "", @progbits
