/* Benchmark VM: parks in FFA_MSG_WAIT; each time it is woken it makes args[2] calls and parks again.
 * args[0] = 0: FFA_VERSION; 1: DIRECT_REQ_64 to endpoint args[1] (the answer is not checked: ping-vm does that). */
#include "ffa.h"

static inline uint64_t trap2(uint64_t a0, uint64_t a1, uint64_t a3)
{
    register uint64_t x0 __asm__("x0") = a0;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = 0;
    register uint64_t x3 __asm__("x3") = a3;
    __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3)
                     : : "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17",
                       "memory");
    return x0;
}

int main(uint64_t vcpu, const uint64_t args[7])
{
    (void)vcpu;
    uint64_t mode = args[0];
    uint64_t target = args[1];
    uint64_t count = args[2];
    uint16_t self = 0;
    ffa_version(FFA_VERSION_1_2);
    ffa_id_get(&self);
    uint64_t w1 = ((uint64_t)self << 16) | target;
    for (;;) {
        ffa_regs r;
        ffa_msg_wait(&r);
        if (mode == 0) {
            for (uint64_t i = 0; i < count; i++) {
                trap2(FFA_VERSION, FFA_VERSION_1_2, 0);
            }
        } else {
            for (uint64_t i = 0; i < count; i++) {
                trap2(FFA_MSG_SEND_DIRECT_REQ64, w1, i);
            }
        }
    }
}
