/* Echo SP: FFA_MSG_WAIT, then answer every direct request with the same payload (DIRECT_REQ → DIRECT_RESP,
 * REQ2 → RESP2) in the convention it came in. Anything else it is resumed with is waited past. */
#include "ffa.h"

int main(uint64_t vcpu, const uint64_t args[7])
{
    (void)args;
    ffa_conduit = FFA_CONDUIT_SMC;
    ffa_version(FFA_VERSION_1_2);
    if (vcpu == 0) {
        ffa_puts("echo-sp: ready");
    }
    ffa_regs r;
    ffa_msg_wait(&r);
    for (;;) {
        uint32_t function = (uint32_t)r.x[0];
        uint64_t sender = ffa_sender(&r);
        uint64_t receiver = ffa_receiver(&r);
        if (function == FFA_MSG_SEND_DIRECT_REQ32 || function == FFA_MSG_SEND_DIRECT_REQ64) {
            /* Same registers back, only w0 and w1 change: no copy through memory. */
            r.x[0] = function == FFA_MSG_SEND_DIRECT_REQ32 ? FFA_MSG_SEND_DIRECT_RESP32 : FFA_MSG_SEND_DIRECT_RESP64;
            r.x[1] = (receiver << 16) | sender;
            r.x[2] = 0;
            ffa_call(&r);
        } else if (function == FFA_MSG_SEND_DIRECT_REQ2) {
            r.x[0] = FFA_MSG_SEND_DIRECT_RESP2;
            r.x[1] = (receiver << 16) | sender;
            r.x[2] = 0;
            r.x[3] = 0;
            ffa_call(&r);
        } else {
            ffa_msg_wait(&r);
        }
    }
}
