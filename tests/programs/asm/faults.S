// Unhandled exceptions end the program with the signal Linux sends: argv[1] picks one.
#include "lib.inc"

        .globl  _start
_start:
        mov     16(%rsp), %rax          // argv[1]
        movzbl  (%rax), %eax
        cmp     $'u', %al
        je      undefined
        cmp     $'b', %al
        je      breakpoint
        cmp     $'n', %al
        je      noncanonical
        cmp     $'h', %al
        je      halt
        cmp     $'s', %al
        je      null
        cmp     $'t', %al
        je      terminate
        say     "usage: faults u|b|n|h|s|t"
        mov     $2, %edi
        sys     SYS_exit_group
undefined:
        ud2                             // #UD: SIGILL
breakpoint:
        int3                            // #BP: SIGTRAP
noncanonical:
        movabs  $0x8000000000000000, %rax
        mov     (%rax), %rax            // #GP: SIGSEGV
halt:
        hlt                             // privileged: #GP, SIGSEGV
null:
        mov     (0), %rax               // #PF: SIGSEGV
terminate:
        sys     SYS_getpid              // SIGTERM without a handler terminates
        mov     %rax, %rdi
        mov     $15, %esi
        sys     SYS_kill
        say     "still alive"
        mov     $1, %edi
        sys     SYS_exit_group
