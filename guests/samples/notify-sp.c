/* Notification receiver SP: at boot binds the IDs in args[1] (a bitmap, global) from the VM named in args[0] to
 * itself, then waits. Whenever it is given cycles that are not a direct request (FFA_RUN from the scheduler after
 * the SRI, or FFA_INTERRUPT — an emulated vCPU has no interrupt handler, so the NPI arrives as a wake-up) it takes
 * its pending notifications with FFA_NOTIFICATION_GET and logs what arrived. Direct requests are echoed, so the
 * SP can be probed. */
#include "ffa.h"

#define GET_ALL 0xFu /* SP, VM, SPM framework and hypervisor framework bitmaps */

static void take_notifications(uint16_t self, uint16_t vcpu)
{
    uint64_t from_sp = 0, from_vm = 0, from_framework = 0;
    int32_t status = ffa_notification_get(self, vcpu, GET_ALL, &from_sp, &from_vm, &from_framework);
    if (status != 0) {
        ffa_printf("notify-sp: NOTIFICATION_GET failed: %d\n", status);
    } else if ((from_sp | from_vm | from_framework) != 0) {
        ffa_printf("notify-sp: got vm 0x%lx sp 0x%lx framework 0x%lx\n", from_vm, from_sp, from_framework);
    }
}

int main(uint64_t vcpu, const uint64_t args[7])
{
    ffa_conduit = FFA_CONDUIT_SMC;
    ffa_version(FFA_VERSION_1_2);
    uint16_t self = 0;
    ffa_id_get(&self);
    uint16_t sender = (uint16_t)args[0];
    uint64_t bitmap = args[1];
    if (vcpu == 0) {
        int32_t status = ffa_notification_bind(sender, self, 0, bitmap);
        ffa_printf("notify-sp: bind 0x%lx from 0x%x: %d\n", bitmap, (unsigned)sender, status);
    }
    ffa_regs r;
    ffa_msg_wait(&r);
    for (;;) {
        uint32_t function = (uint32_t)r.x[0];
        if (function == FFA_MSG_SEND_DIRECT_REQ32 || function == FFA_MSG_SEND_DIRECT_REQ64) {
            uint64_t from = ffa_sender(&r);
            uint64_t to = ffa_receiver(&r);
            r.x[0] = function == FFA_MSG_SEND_DIRECT_REQ32 ? FFA_MSG_SEND_DIRECT_RESP32 : FFA_MSG_SEND_DIRECT_RESP64;
            r.x[1] = (to << 16) | from;
            r.x[2] = 0;
            ffa_call(&r);
            continue;
        }
        if (function == FFA_RUN || function == FFA_INTERRUPT) {
            take_notifications(self, (uint16_t)vcpu);
        }
        ffa_msg_wait(&r);
    }
}
