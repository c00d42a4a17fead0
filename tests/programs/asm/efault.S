// Bad pointers in system calls return EFAULT; the emulator never faults itself. A buffer
// that runs into an unmapped page is used up to the page.
#include "lib.inc"
        .set PAGE, 4096

        .globl  _start
_start:
        mov     $1, %edi
        mov     $16, %esi               // write from address 16: EFAULT
        mov     $8, %edx
        sys     SYS_write
        show    "write from an unmapped buffer", %rax
        movabs  $0x7fffffffffff0000, %rsi
        mov     $1, %edi
        mov     $8, %edx
        sys     SYS_write
        show    "write from a high address", %rax
        mov     $1, %edi
        movabs  $0xffff800000000000, %rsi
        mov     $8, %edx
        sys     SYS_write
        show    "write from a kernel address", %rax
        mov     $16, %edi               // open(16, ...): the path is unreadable
        xor     %esi, %esi
        sys     SYS_open
        show    "open with a bad path", %rax
        mov     $1, %edi                // CLOCK_MONOTONIC into a bad pointer
        mov     $16, %esi
        sys     SYS_clock_gettime
        show    "clock_gettime into a bad pointer", %rax

        xor     %edi, %edi              // two pages, the second one then unmapped
        mov     $2*PAGE, %esi
        mov     $PROT_READ|PROT_WRITE, %edx
        mov     $MAP_PRIVATE|MAP_ANONYMOUS, %r10d
        mov     $-1, %r8
        xor     %r9d, %r9d
        sys     SYS_mmap
        mov     %rax, %rbx
        lea     PAGE(%rbx), %rdi
        mov     $PAGE, %esi
        sys     SYS_munmap
        movq    $0x0a6b6f2065676170, %rax       // "page ok\n"
        mov     %rax, PAGE-8(%rbx)
        mov     $1, %edi                // 100 bytes from 8 before the hole: writes 8
        lea     PAGE-8(%rbx), %rsi
        mov     $100, %edx
        sys     SYS_write
        show    "write across into the hole", %rax

        mov     %rbx, %rdi              // a read-only buffer for read(2)
        mov     $PAGE, %esi
        mov     $PROT_READ, %edx
        sys     SYS_mprotect
        lea     zero(%rip), %rdi
        xor     %esi, %esi
        sys     SYS_open
        mov     %rax, %rdi
        mov     %rbx, %rsi
        mov     $16, %edx
        sys     SYS_read
        show    "read into a read-only page", %rax
        xor     %edi, %edi
        sys     SYS_exit_group

        .section .rodata
zero:   .asciz  "/dev/zero"
