// Loops for measuring the software CPU's speed (instructions per second): argv[1] picks one.
// Each runs a fixed number of iterations of a short block of common instructions.
        .set ITERATIONS, 20000000

        .globl  _start
_start:
        mov     16(%rsp), %rax          // argv[1]
        test    %rax, %rax
        jz      alu
        movzbl  (%rax), %eax
        cmp     $'m', %al
        je      memory
        cmp     $'c', %al
        je      calls
        cmp     $'b', %al
        je      branches

alu:    // register arithmetic: 8 instructions per iteration
        mov     $ITERATIONS, %ecx
        xor     %eax, %eax
        mov     $1, %ebx
1:      add     %rax, %rbx
        xor     %rbx, %rdx
        sub     $3, %rdx
        lea     (%rax,%rbx,2), %rsi
        imul    $7, %rsi, %rax
        shr     $3, %rax
        dec     %ecx
        jnz     1b
        jmp     done

memory: // loads and stores through an array: 7 instructions per iteration
        mov     $ITERATIONS, %ecx
        lea     array(%rip), %rsi
        xor     %ebx, %ebx
2:      mov     %ecx, %edx
        and     $1023, %edx
        mov     (%rsi,%rdx,8), %rax
        add     %rax, %rbx
        mov     %rbx, 8(%rsi,%rdx,8)
        dec     %ecx
        jnz     2b
        jmp     done

calls:  // a call and return per iteration: 5 instructions
        mov     $ITERATIONS, %ecx
        xor     %eax, %eax
3:      call    leaf
        dec     %ecx
        jnz     3b
        jmp     done
leaf:   add     $1, %rax
        xor     %rcx, %rax
        ret

branches:  // a data-dependent branch on a pseudo-random bit: about 9 instructions
        mov     $ITERATIONS, %ecx
        mov     $12345, %eax
        xor     %ebx, %ebx
4:      imul    $1103515245, %eax, %eax
        add     $12345, %eax
        test    $0x10000, %eax
        jz      5f
        inc     %rbx
5:      dec     %ecx
        jnz     4b

done:   xor     %edi, %edi
        mov     $231, %eax              // exit_group
        syscall

        .bss
        .align  64
array:  .skip   8 * 1025
