// Processes: fork with a pipe, vfork, wait4 statuses, and execve of the program itself
// (through /proc/self/exe, which must name the program, not the emulator).
#include "lib.inc"

        .globl  _start
_start:
        mov     (%rsp), %rax            // argc > 1: this is the exec'd copy
        cmp     $1, %rax
        je      parent
        mov     16(%rsp), %rbx
        say     "exec'd with argument:"
        mov     %rbx, %rsi
        call    puts
        mov     $3, %edi
        sys     SYS_exit_group

parent:
        lea     fds(%rip), %rdi
        sys     SYS_pipe
        show    "pipe", %rax
        sys     SYS_fork
        test    %rax, %rax
        jnz     1f
        movl    fds(%rip), %edi         // the child: write into the pipe, exit 7
        sys     SYS_close
        movl    fds+4(%rip), %edi
        lea     message(%rip), %rsi
        mov     $message_length, %edx
        sys     SYS_write
        mov     $7, %edi
        sys     SYS_exit_group
1:      movl    fds+4(%rip), %edi
        sys     SYS_close
        movl    fds(%rip), %edi
        lea     buffer(%rip), %rsi
        mov     $64, %edx
        sys     SYS_read
        mov     %rax, %rdx
        lea     buffer(%rip), %rsi
        call    print
        mov     $-1, %rdi
        lea     status(%rip), %rsi
        xor     %edx, %edx
        xor     %r10d, %r10d
        sys     SYS_wait4
        show    "child status", status(%rip)

        sys     SYS_vfork               // the parent waits until the child exits
        test    %rax, %rax
        jnz     2f
        mov     $5, %edi
        sys     SYS_exit
2:      mov     $-1, %rdi
        lea     status(%rip), %rsi
        xor     %edx, %edx
        xor     %r10d, %r10d
        sys     SYS_wait4
        show    "vfork child status", status(%rip)

        sys     SYS_fork                // a child that execs this program again
        test    %rax, %rax
        jnz     3f
        lea     self(%rip), %rdi
        lea     exec_argv(%rip), %rsi
        xor     %edx, %edx
        sys     SYS_execve
        show    "execve failed", %rax
        mov     $99, %edi
        sys     SYS_exit_group
3:      mov     $-1, %rdi
        lea     status(%rip), %rsi
        xor     %edx, %edx
        xor     %r10d, %r10d
        sys     SYS_wait4
        show    "exec'd child status", status(%rip)

        lea     missing(%rip), %rdi     // errors come back to the caller
        lea     exec_argv(%rip), %rsi
        xor     %edx, %edx
        sys     SYS_execve
        show    "execve of a missing file", %rax
        lea     not_elf(%rip), %rdi
        lea     exec_argv(%rip), %rsi
        xor     %edx, %edx
        sys     SYS_execve
        show    "execve of a directory", %rax
        xor     %edi, %edi
        sys     SYS_exit_group

        .section .rodata
message:        .ascii "message from the child\n"
        .set message_length, . - message
self:           .asciz "/proc/self/exe"
missing:        .asciz "/nonexistent/program"
not_elf:        .asciz "/"
argument:       .asciz "again"
        .data
exec_argv:      .quad self, argument, 0
fds:            .long 0, 0
status:         .quad 0
buffer:         .skip 64
