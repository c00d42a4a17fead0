// The smallest program: a write and an exit status.
#include "lib.inc"
        .globl  _start
_start:
        say     "hello from assembly"
        mov     $42, %edi
        sys     SYS_exit_group
