// cat FILE: copies a file to standard output (used by cli.sh to read the guest's own /proc
// files, which differ from a native run by design).
#include "lib.inc"
        .globl  _start
_start:
        mov     16(%rsp), %rdi          // argv[1]
        xor     %esi, %esi              // O_RDONLY
        sys     SYS_open
        test    %rax, %rax
        js      2f
        mov     %rax, %rbx
1:      mov     %rbx, %rdi
        lea     buffer(%rip), %rsi
        mov     $4096, %edx
        sys     SYS_read
        test    %rax, %rax
        jle     3f
        mov     %rax, %rdx
        lea     buffer(%rip), %rsi
        call    print
        jmp     1b
2:      mov     $1, %edi
        sys     SYS_exit_group
3:      xor     %edi, %edi
        sys     SYS_exit_group
        .bss
buffer: .skip   4096
