/* Ping VM: sends args[1] direct requests (DIRECT_REQ_64; REQ2 when args[2] is 1) to endpoint args[0], checks that
 * each answer is a response from it carrying the payload it sent, logs the result and powers its vCPU off.
 * args[3] = 1 makes it an SP-side client (SMC conduit). */
#include "ffa.h"

int main(uint64_t vcpu, const uint64_t args[7])
{
    (void)vcpu;
    uint16_t target = (uint16_t)args[0];
    uint64_t count = args[1];
    int use_req2 = args[2] == 1;
    if (args[3] == 1) {
        ffa_conduit = FFA_CONDUIT_SMC;
    }
    ffa_version(FFA_VERSION_1_2);
    uint16_t self = 0;
    int32_t status = ffa_id_get(&self);
    if (status != 0) {
        ffa_printf("ping: ID_GET failed %d\n", status);
        return 1;
    }
    ffa_regs r;
    uint64_t good = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (use_req2) {
            uint64_t uuid[2] = {0, 0};
            uint64_t payload[14] = {i, i * 3, 0x1234, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i ^ 0x5555};
            ffa_direct_req2(&r, self, target, uuid, payload);
            if ((uint32_t)r.x[0] == FFA_MSG_SEND_DIRECT_RESP2 && r.x[4] == i && r.x[5] == i * 3 && r.x[17] == (i ^ 0x5555)) {
                good++;
                continue;
            }
        } else {
            uint64_t payload[5] = {i + 0x100, i * 7, 0xCAFE, 0, i};
            ffa_direct_req(&r, self, target, payload);
            if (((uint32_t)r.x[0] == FFA_MSG_SEND_DIRECT_RESP64 || (uint32_t)r.x[0] == FFA_MSG_SEND_DIRECT_RESP32)
                && ffa_sender(&r) == target && r.x[3] == i + 0x100 && r.x[4] == i * 7 && r.x[5] == 0xCAFE && r.x[7] == i) {
                good++;
                continue;
            }
        }
        ffa_printf("ping: request %lu answered 0x%x status %d\n", i, (unsigned)r.x[0], ffa_status(&r));
        break;
    }
    ffa_printf("ping: %lu of %lu echoed by 0x%x\n", good, count, (unsigned)target);
    return 0;
}
