/* Startup: the emulator enters at _start with the vCPU index in x0, entry arguments in x1..x7 and the vCPU index
 * also in TPIDR_EL1. Each vCPU gets its own stack below __stack_top; vCPU 0 clears .bss. Then main(vcpu, args),
 * then PSCI CPU_OFF. Position independent: adr/adrp only, so the image runs at any 4 KiB-aligned address. */
    .section .text.start, "ax"
    .global _start
    .type _start, %function
_start:
    mrs x9, tpidr_el1
    adrp x10, __stack_top
    add x10, x10, :lo12:__stack_top
    lsl x11, x9, #14                  /* 16 KiB per vCPU */
    sub x10, x10, x11
    sub x10, x10, #64                 /* room for the 7 entry arguments */
    mov sp, x10
    stp x1, x2, [sp, #0]
    stp x3, x4, [sp, #16]
    stp x5, x6, [sp, #32]
    str x7, [sp, #48]
    cbnz x9, 2f
    adrp x12, __bss_start
    add x12, x12, :lo12:__bss_start
    adrp x13, __bss_end
    add x13, x13, :lo12:__bss_end
1:  cmp x12, x13
    b.hs 2f
    str xzr, [x12], #8
    b 1b
2:  mov x0, x9
    mov x1, sp
    bl main
    bl ffa_cpu_off
    .size _start, . - _start
