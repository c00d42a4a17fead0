// mmap, munmap, mprotect, mremap and brk: results and error codes as Linux gives them.
#include "lib.inc"
        .set PAGE, 4096

        .globl  _start
_start:
        xor     %edi, %edi              // mmap(NULL, 3 pages, RW, private anonymous)
        mov     $3*PAGE, %esi
        mov     $PROT_READ|PROT_WRITE, %edx
        mov     $MAP_PRIVATE|MAP_ANONYMOUS, %r10d
        mov     $-1, %r8
        xor     %r9d, %r9d
        sys     SYS_mmap
        mov     %rax, %rbx
        movq    $0x1122334455667788, %rax
        mov     %rax, 8(%rbx)
        movb    $7, PAGE(%rbx)

        lea     PAGE(%rbx), %rdi        // munmap the middle page
        mov     $PAGE, %esi
        sys     SYS_munmap
        show    "munmap middle", %rax
        mov     %rbx, %rdi              // mprotect over the hole: ENOMEM
        mov     $2*PAGE, %esi
        mov     $PROT_READ, %edx
        sys     SYS_mprotect
        show    "mprotect over a hole", %rax
        lea     1(%rbx), %rdi           // an unaligned munmap is EINVAL
        mov     $PAGE, %esi
        sys     SYS_munmap
        show    "munmap unaligned", %rax

        mov     %rbx, %rdi              // MAP_FIXED_NOREPLACE over a mapping: EEXIST
        mov     $PAGE, %esi
        mov     $PROT_READ|PROT_WRITE, %edx
        mov     $MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, %r10d
        mov     $-1, %r8
        xor     %r9d, %r9d
        sys     SYS_mmap
        show    "noreplace over a mapping", %rax
        lea     PAGE(%rbx), %rdi        // MAP_FIXED into the hole
        mov     $PAGE, %esi
        mov     $PROT_READ|PROT_WRITE, %edx
        mov     $MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, %r10d
        sys     SYS_mmap
        lea     PAGE(%rbx), %rcx
        check   "fixed into the hole", %rax, %rcx
        movzbl  PAGE(%rbx), %eax
        show    "new page byte", %rax

        mov     %rbx, %rdi              // no MAP_PRIVATE or MAP_SHARED: EINVAL
        mov     $PAGE, %esi
        mov     $PROT_READ, %edx
        mov     $MAP_ANONYMOUS, %r10d
        sys     SYS_mmap
        show    "mmap without a type", %rax

        mov     %rbx, %rdi
        mov     $PAGE, %esi
        mov     $PROT_READ, %edx
        sys     SYS_mprotect
        show    "mprotect read-only", %rax

        xor     %edi, %edi              // mremap a fresh 3-page mapping to 16 pages
        mov     $3*PAGE, %esi
        mov     $PROT_READ|PROT_WRITE, %edx
        mov     $MAP_PRIVATE|MAP_ANONYMOUS, %r10d
        mov     $-1, %r8
        xor     %r9d, %r9d
        sys     SYS_mmap
        mov     %rax, %rbx
        movq    $0x1122334455667788, %rax
        mov     %rax, 2*PAGE+8(%rbx)
        mov     %rbx, %rdi
        mov     $3*PAGE, %esi
        mov     $16*PAGE, %edx
        mov     $1, %r10d               // MREMAP_MAYMOVE
        sys     SYS_mremap
        mov     %rax, %r12
        mov     2*PAGE+8(%r12), %rax
        show    "contents after mremap", %rax
        movb    $1, 15*PAGE(%r12)       // the new pages are writable
        movzbl  15*PAGE(%r12), %eax
        show    "new tail byte", %rax
        mov     %r12, %rdi
        mov     $16*PAGE, %esi
        mov     $PAGE, %edx
        xor     %r10d, %r10d
        sys     SYS_mremap              // shrink in place
        check   "mremap shrink", %rax, %r12
        lea     PAGE(%r12), %rdi        // the tail is gone: mprotect fails
        mov     $PAGE, %esi
        mov     $PROT_READ, %edx
        sys     SYS_mprotect
        show    "mprotect the shrunk tail", %rax

        xor     %edi, %edi              // brk: grow, use, shrink
        sys     SYS_brk
        mov     %rax, %r13
        lea     3*PAGE(%r13), %rdi
        sys     SYS_brk
        lea     3*PAGE(%r13), %rcx
        check   "brk grow", %rax, %rcx
        movb    $9, 2*PAGE(%r13)
        mov     %r13, %rdi
        sys     SYS_brk
        check   "brk shrink", %rax, %r13
        mov     $1, %edi                // below the start: the break stays
        sys     SYS_brk
        check   "brk below start", %rax, %r13

        xor     %edi, %edi
        sys     SYS_exit_group
