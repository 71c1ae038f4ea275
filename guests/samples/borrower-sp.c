/* Memory borrower SP. A direct request with x3 = 1, x4 = a memory handle, x5 = the sender's ID: retrieve the
 * transaction read-write (retrieve request in TX, FFA_MEM_RETRIEVE_REQ), find the constituents in the RETRIEVE_RESP
 * in RX (their addresses are this SP's IPAs), sum every byte of them, release RX, relinquish (descriptor in TX).
 * Answer: x3 = 1, x4 = status (0 or the failing call's FF-A error), x5 = the byte sum, x6 = bytes summed, x7 = the
 * first constituent's address. x3 = 2: load from the last address retrieved (after relinquish, a stage-2 fault the
 * platform must contain). The RX/TX buffers are two pages of .bss, mapped with FFA_RXTX_MAP at boot. */
#include "ffa.h"

static uint8_t tx[4096] __attribute__((aligned(4096)));
static uint8_t rx[4096] __attribute__((aligned(4096)));
static uint64_t last_address;

struct result {
    int32_t status;
    uint64_t sum;
    uint64_t bytes;
};

static struct result borrow(uint16_t self, uint64_t handle, uint16_t sender)
{
    struct result out = { 0, 0, 0 };
    uint32_t length = ffa_mem_retrieve_request_write(tx, sizeof tx, handle, sender, self, FFA_MEM_RW);
    ffa_regs r;
    out.status = ffa_mem_retrieve_req(length, length, &r);
    if (out.status != 0) {
        return out;
    }
    if ((uint32_t)r.x[0] != FFA_MEM_RETRIEVE_RESP) {
        out.status = FFA_ABORTED;
        return out;
    }
    struct ffa_constituent parts[4];
    uint32_t count = ffa_mem_retrieve_resp_constituents(rx, (uint32_t)r.x[2], parts, 4);
    ffa_rx_release();
    if (count == 0) {
        out.status = FFA_INVALID_PARAMETERS;
        return out;
    }
    last_address = parts[0].address;
    for (uint32_t i = 0; i < count; i++) {
        const volatile uint8_t *bytes = (const volatile uint8_t *)parts[i].address;
        uint64_t size = (uint64_t)parts[i].pages * 4096;
        for (uint64_t b = 0; b < size; b++) {
            out.sum += bytes[b];
        }
        out.bytes += size;
    }
    ffa_mem_relinquish_write(tx, sizeof tx, handle, self);
    out.status = ffa_mem_relinquish();
    return out;
}

int main(uint64_t vcpu, const uint64_t args[7])
{
    (void)args;
    ffa_conduit = FFA_CONDUIT_SMC;
    ffa_version(FFA_VERSION_1_2);
    uint16_t self = 0;
    ffa_id_get(&self);
    if (vcpu == 0) {
        int32_t mapped = ffa_rxtx_map((uint64_t)(uintptr_t)tx, (uint64_t)(uintptr_t)rx, 1);
        ffa_printf("borrower-sp: RXTX_MAP %d\n", mapped);
    }
    ffa_regs r;
    ffa_msg_wait(&r);
    for (;;) {
        uint32_t function = (uint32_t)r.x[0];
        if (function != FFA_MSG_SEND_DIRECT_REQ32 && function != FFA_MSG_SEND_DIRECT_REQ64) {
            ffa_msg_wait(&r);
            continue;
        }
        uint64_t from = ffa_sender(&r);
        uint64_t to = ffa_receiver(&r);
        uint64_t command = r.x[3];
        uint64_t answer[5] = { command, (uint64_t)(uint32_t)FFA_INVALID_PARAMETERS, 0, 0, 0 };
        if (command == 1) {
            struct result got = borrow(self, r.x[4], (uint16_t)r.x[5]);
            answer[1] = (uint32_t)got.status;
            answer[2] = got.sum;
            answer[3] = got.bytes;
            answer[4] = last_address;
            ffa_printf("borrower-sp: handle 0x%lx from 0x%x: %lu bytes, sum %lu, status %d\n", r.x[4],
                       (unsigned)r.x[5], got.bytes, got.sum, got.status);
        } else if (command == 2) {
            answer[1] = 0;
            answer[2] = *(const volatile uint64_t *)last_address;
        }
        ffa_direct_resp(&r, (uint16_t)to, (uint16_t)from, answer);
    }
}
