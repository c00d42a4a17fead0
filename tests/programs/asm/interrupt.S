// A blocking read interrupted by SIGALRM: restarted with SA_RESTART, EINTR without it; and a
// signal delivered to a program that only computes (between instructions of a busy loop).
#include "lib.inc"
        .set SIGALRM, 14
        .set ITIMER_REAL, 0

        .globl  _start
_start:
        lea     fds(%rip), %rdi
        sys     SYS_pipe
        movq    $SA_SIGINFO|SA_RESTORER|SA_RESTART, action+8(%rip)
        call    read_with_alarm
        show    "read with SA_RESTART", %rax
        movzbl  buffer(%rip), %eax
        show    "byte", %rax
        movq    $SA_SIGINFO|SA_RESTORER, action+8(%rip)
        call    read_with_alarm
        show    "read without SA_RESTART", %rax

        lea     spin_handler(%rip), %rax        // a busy loop that only a handler ends
        mov     %rax, action(%rip)
        mov     $SIGALRM, %edi
        lea     action(%rip), %rsi
        xor     %edx, %edx
        mov     $8, %r10d
        sys     SYS_rt_sigaction
        mov     $ITIMER_REAL, %edi
        lea     timer(%rip), %rsi
        xor     %edx, %edx
        sys     SYS_setitimer
1:      cmpb    $0, spun(%rip)
        je      1b
        say     "busy loop interrupted by SIGALRM"
        xor     %edi, %edi
        sys     SYS_exit_group

// Arms a 20 ms timer whose handler writes one byte into the pipe, then reads the pipe.
read_with_alarm:
        mov     $SIGALRM, %edi
        lea     action(%rip), %rsi
        xor     %edx, %edx
        mov     $8, %r10d
        sys     SYS_rt_sigaction
        mov     $ITIMER_REAL, %edi
        lea     timer(%rip), %rsi
        xor     %edx, %edx
        sys     SYS_setitimer
        movl    fds(%rip), %edi
        lea     buffer(%rip), %rsi
        mov     $1, %edx
        sys     SYS_read
        ret

alarm_handler:
        movl    fds+4(%rip), %edi
        lea     byte(%rip), %rsi
        mov     $1, %edx
        sys     SYS_write
        ret

spin_handler:
        movb    $1, spun(%rip)
        ret

        .data
spun:   .byte 0
action: .quad alarm_handler, 0, restore_rt, 0
timer:  .quad 0, 0, 0, 20000            // it_interval = 0, it_value = 20 ms
fds:    .long 0, 0
byte:   .byte 'x'
buffer: .byte 0
