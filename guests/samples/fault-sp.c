/* Faulting SP for containment tests: serves direct requests like the echo SP, except that payload word 0 (x3)
 * asks for a fault — 1: load from the address in x4, 2: store to it, 3: an undefined instruction, 4: BRK — and
 * 5 asks it to log a line first and then answer. */
#include "ffa.h"

int main(uint64_t vcpu, const uint64_t args[7])
{
    (void)vcpu;
    (void)args;
    ffa_conduit = FFA_CONDUIT_SMC;
    ffa_regs r;
    ffa_msg_wait(&r);
    for (;;) {
        uint32_t function = (uint32_t)r.x[0];
        if (function != FFA_MSG_SEND_DIRECT_REQ32 && function != FFA_MSG_SEND_DIRECT_REQ64) {
            ffa_msg_wait(&r);
            continue;
        }
        volatile uint64_t *where = (volatile uint64_t *)r.x[4];
        switch (r.x[3]) {
        case 1:
            r.x[5] = *where;
            break;
        case 2:
            *where = 0x5AFE;
            break;
        case 3:
            __asm__ volatile(".inst 0x00000000"); /* UDF #0 */
            break;
        case 4:
            __asm__ volatile("brk #0x42");
            break;
        case 5:
            ffa_printf("fault-sp: asked by 0x%x\n", (unsigned)ffa_sender(&r));
            break;
        default:
            break;
        }
        uint64_t sender = ffa_sender(&r);
        uint64_t receiver = ffa_receiver(&r);
        r.x[0] = function == FFA_MSG_SEND_DIRECT_REQ32 ? FFA_MSG_SEND_DIRECT_RESP32 : FFA_MSG_SEND_DIRECT_RESP64;
        r.x[1] = (receiver << 16) | sender;
        r.x[2] = 0;
        ffa_call(&r);
    }
}
