/* ffa_call_hvc / ffa_call_smc: the frame pointer in x0; x0..x17 loaded from it, trap, stored back. x18 keeps
 * the frame pointer across the trap (it is a scratch register in this freestanding world). */
.macro TRAP_CALL name, insn
    .global \name
    .type \name, %function
\name:
    mov x18, x0
    ldp x16, x17, [x18, #128]
    ldp x14, x15, [x18, #112]
    ldp x12, x13, [x18, #96]
    ldp x10, x11, [x18, #80]
    ldp x8, x9, [x18, #64]
    ldp x6, x7, [x18, #48]
    ldp x4, x5, [x18, #32]
    ldp x2, x3, [x18, #16]
    ldp x0, x1, [x18, #0]
    \insn #0
    stp x0, x1, [x18, #0]
    stp x2, x3, [x18, #16]
    stp x4, x5, [x18, #32]
    stp x6, x7, [x18, #48]
    stp x8, x9, [x18, #64]
    stp x10, x11, [x18, #80]
    stp x12, x13, [x18, #96]
    stp x14, x15, [x18, #112]
    stp x16, x17, [x18, #128]
    ret
    .size \name, . - \name
.endm

    .text
    TRAP_CALL ffa_call_hvc, hvc
    TRAP_CALL ffa_call_smc, smc
