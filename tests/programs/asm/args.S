// The initial stack: argc, argv, envp and the auxiliary vector as Linux lays them out.
#include "lib.inc"
        .set AT_PHDR, 3
        .set AT_PHENT, 4
        .set AT_PHNUM, 5
        .set AT_PAGESZ, 6
        .set AT_BASE, 7
        .set AT_FLAGS, 8
        .set AT_ENTRY, 9
        .set AT_UID, 11
        .set AT_PLATFORM, 15
        .set AT_CLKTCK, 17
        .set AT_SECURE, 23
        .set AT_RANDOM, 25
        .set AT_EXECFN, 31

        .globl  _start
_start:
        mov     %rsp, %rax
        and     $15, %eax
        show    "rsp mod 16", %rax
        mov     (%rsp), %rbx
        show    "argc", %rbx
        lea     8(%rsp), %r12
1:      mov     (%r12), %rsi            // argv strings
        test    %rsi, %rsi
        jz      2f
        call    puts
        add     $8, %r12
        jmp     1b
2:      add     $8, %r12                // envp: count the strings
        xor     %ebx, %ebx
3:      cmpq    $0, (%r12)
        je      4f
        inc     %rbx
        add     $8, %r12
        jmp     3b
4:      show    "envc", %rbx
        add     $8, %r12                // the auxiliary vector
5:      mov     (%r12), %r13
        mov     8(%r12), %rbx
        test    %r13, %r13
        jz      9f
        cmp     $AT_PAGESZ, %r13
        jne     10f
        show    "AT_PAGESZ", %rbx
10:     cmp     $AT_PHENT, %r13
        jne     11f
        show    "AT_PHENT", %rbx
11:     cmp     $AT_PHNUM, %r13
        jne     12f
        show    "AT_PHNUM", %rbx
12:     cmp     $AT_PHDR, %r13
        jne     13f
        movl    (%rbx), %ebx            // p_type of the first program header
        show    "first p_type", %rbx
13:     cmp     $AT_ENTRY, %r13
        jne     14f
        lea     _start(%rip), %rcx
        check   "AT_ENTRY", %rbx, %rcx
14:     cmp     $AT_BASE, %r13
        jne     15f
        show    "AT_BASE", %rbx
15:     cmp     $AT_UID, %r13
        jne     16f
        show    "AT_UID", %rbx
16:     cmp     $AT_CLKTCK, %r13
        jne     17f
        show    "AT_CLKTCK", %rbx
17:     cmp     $AT_SECURE, %r13
        jne     18f
        show    "AT_SECURE", %rbx
18:     cmp     $AT_PLATFORM, %r13
        jne     19f
        mov     %rbx, %rsi
        call    puts
19:     cmp     $AT_EXECFN, %r13
        jne     20f
        mov     %rbx, %rsi
        call    puts
20:     cmp     $AT_RANDOM, %r13
        jne     21f
        say     "AT_RANDOM present"
21:     cmp     $AT_FLAGS, %r13
        jne     22f
        show    "AT_FLAGS", %rbx
22:     add     $16, %r12
        jmp     5b
9:      xor     %edi, %edi
        sys     SYS_exit_group
