/* FFA_VERSION args[0] times over HVC with nothing else in the loop (the fast-call benchmark), then logs the answer. */
#include "ffa.h"

int main(uint64_t vcpu, const uint64_t args[7])
{
    (void)vcpu;
    uint64_t answer = 0;
    for (uint64_t i = 0; i < args[0]; i++) {
        register uint64_t x0 __asm__("x0") = FFA_VERSION;
        register uint64_t x1 __asm__("x1") = FFA_VERSION_1_2;
        __asm__ volatile("hvc #0" : "+r"(x0), "+r"(x1)
                         : : "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
                           "x16", "x17", "memory");
        answer = x0;
    }
    ffa_printf("version-loop: %lu calls, version 0x%x\n", args[0], (unsigned)answer);
    return 0;
}
