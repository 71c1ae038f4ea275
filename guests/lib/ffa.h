/*
 * Firmament guest library: FF-A calls, Gunyah hypercalls and console output for freestanding AArch64 code.
 * Every call is one register frame (x0..x17) in and one back, issued with HVC or SMC exactly as on hardware.
 * No libc: fixed-width types come from the compiler's own <stdint.h>/<stddef.h>.
 */
#ifndef FIRMAMENT_FFA_H
#define FIRMAMENT_FFA_H

#include <stddef.h>
#include <stdint.h>

/* The register frame of one call: x0..x17 in, x0..x17 out. */
typedef struct {
    uint64_t x[18];
} ffa_regs;

/* Which instruction reaches the partition manager: HVC (a VM to its hypervisor) or SMC (an SP, or a VM whose
 * hypervisor traps SMC). Set once at startup (crt0 passes the choice the image was built for); default HVC. */
enum ffa_conduit { FFA_CONDUIT_HVC = 0, FFA_CONDUIT_SMC = 1 };
extern enum ffa_conduit ffa_conduit;

/* Raw calls (lib/call.S): load x0..x17 from *r, trap, store x0..x17 back. */
void ffa_call_hvc(ffa_regs *r);
void ffa_call_smc(ffa_regs *r);
void ffa_call(ffa_regs *r);

/* Function IDs (SMC32 0x84000000 | n, SMC64 0xC4000000 | n). */
#define FFA_ID32(n) (0x84000000u | (n))
#define FFA_ID64(n) (0xC4000000u | (n))
#define FFA_ERROR FFA_ID32(0x60)
#define FFA_SUCCESS32 FFA_ID32(0x61)
#define FFA_SUCCESS64 FFA_ID64(0x61)
#define FFA_INTERRUPT FFA_ID32(0x62)
#define FFA_VERSION FFA_ID32(0x63)
#define FFA_FEATURES FFA_ID32(0x64)
#define FFA_RX_RELEASE FFA_ID32(0x65)
#define FFA_RXTX_MAP64 FFA_ID64(0x66)
#define FFA_RXTX_UNMAP FFA_ID32(0x67)
#define FFA_PARTITION_INFO_GET FFA_ID32(0x68)
#define FFA_ID_GET FFA_ID32(0x69)
#define FFA_MSG_WAIT FFA_ID32(0x6B)
#define FFA_YIELD FFA_ID32(0x6C)
#define FFA_RUN FFA_ID32(0x6D)
#define FFA_MSG_SEND_DIRECT_REQ32 FFA_ID32(0x6F)
#define FFA_MSG_SEND_DIRECT_REQ64 FFA_ID64(0x6F)
#define FFA_MSG_SEND_DIRECT_RESP32 FFA_ID32(0x70)
#define FFA_MSG_SEND_DIRECT_RESP64 FFA_ID64(0x70)
#define FFA_MEM_SHARE64 FFA_ID64(0x73)
#define FFA_MEM_RETRIEVE_REQ64 FFA_ID64(0x74)
#define FFA_MEM_RETRIEVE_RESP FFA_ID32(0x75)
#define FFA_MEM_RELINQUISH FFA_ID32(0x76)
#define FFA_MEM_RECLAIM FFA_ID32(0x77)
#define FFA_NOTIFICATION_BIND FFA_ID32(0x7F)
#define FFA_NOTIFICATION_UNBIND FFA_ID32(0x80)
#define FFA_NOTIFICATION_SET FFA_ID32(0x81)
#define FFA_NOTIFICATION_GET FFA_ID32(0x82)
#define FFA_MSG_SEND2 FFA_ID32(0x86)
#define FFA_CONSOLE_LOG64 FFA_ID64(0x8A)
#define FFA_MSG_SEND_DIRECT_REQ2 FFA_ID64(0x8D)
#define FFA_MSG_SEND_DIRECT_RESP2 FFA_ID64(0x8E)

#define FFA_VERSION_1_2 0x00010002u

/* FF-A status codes (w2 of FFA_ERROR). */
#define FFA_NOT_SUPPORTED (-1)
#define FFA_INVALID_PARAMETERS (-2)
#define FFA_NO_MEMORY (-3)
#define FFA_BUSY (-4)
#define FFA_INTERRUPTED (-5)
#define FFA_DENIED (-6)
#define FFA_RETRY (-7)
#define FFA_ABORTED (-8)
#define FFA_NO_DATA (-9)

/* 0 when the answer is not FFA_ERROR, else its (negative) status. */
static inline int32_t ffa_status(const ffa_regs *r)
{
    return (uint32_t)r->x[0] == FFA_ERROR ? (int32_t)(uint32_t)r->x[2] : 0;
}

/* Sender/receiver word of a direct message (w1): sender in bits 31:16, receiver in 15:0. */
static inline uint16_t ffa_sender(const ffa_regs *r) { return (uint16_t)(r->x[1] >> 16); }
static inline uint16_t ffa_receiver(const ffa_regs *r) { return (uint16_t)r->x[1]; }

/* Discovery and setup. */
uint32_t ffa_version(uint32_t wanted);                      /* the manager's version, or a negative status */
int32_t ffa_id_get(uint16_t *id);
int32_t ffa_features(uint32_t function, ffa_regs *answer);
int32_t ffa_rxtx_map(uint64_t tx, uint64_t rx, uint32_t pages);
int32_t ffa_rxtx_unmap(uint16_t id);
int32_t ffa_rx_release(void);

/* Messaging: each returns the frame the call came back with (a request, a response, FFA_ERROR, …). */
void ffa_msg_wait(ffa_regs *out);
void ffa_direct_req(ffa_regs *io, uint16_t from, uint16_t to, const uint64_t payload[5]);
void ffa_direct_resp(ffa_regs *io, uint16_t from, uint16_t to, const uint64_t payload[5]);
void ffa_direct_req2(ffa_regs *io, uint16_t from, uint16_t to, const uint64_t uuid[2], const uint64_t payload[14]);
void ffa_direct_resp2(ffa_regs *io, uint16_t from, uint16_t to, const uint64_t payload[14]);
int32_t ffa_msg_send2(uint16_t sender_vm, uint32_t flags);
void ffa_yield(ffa_regs *out);
void ffa_run(ffa_regs *out, uint16_t target, uint16_t vcpu);

/* Notifications (FF-A v1.1): the receiver binds IDs to a sender, the sender sets, the receiver gets. */
int32_t ffa_notification_bind(uint16_t sender, uint16_t receiver, uint32_t flags, uint64_t bitmap);
int32_t ffa_notification_unbind(uint16_t sender, uint16_t receiver, uint64_t bitmap);
int32_t ffa_notification_set(uint16_t sender, uint16_t receiver, uint32_t flags, uint64_t bitmap);
/* Fills from_sp, from_vm, from_framework (SPM | hypervisor) with the pending bitmaps it took. */
int32_t ffa_notification_get(uint16_t receiver, uint16_t vcpu, uint32_t flags,
                             uint64_t *from_sp, uint64_t *from_vm, uint64_t *from_framework);

/* Memory management: the descriptor is in the caller's TX buffer (the RX buffer for the retrieve answer). */
int32_t ffa_mem_share(uint32_t total_length, uint32_t fragment_length, uint64_t *handle);
int32_t ffa_mem_retrieve_req(uint32_t total_length, uint32_t fragment_length, ffa_regs *answer);
int32_t ffa_mem_relinquish(void);
int32_t ffa_mem_reclaim(uint64_t handle, uint32_t flags);

/* Memory descriptors in the v1.1+ layout with v1.2's 32-byte EMAD (for an endpoint that negotiated v1.2): a
 * 48-byte transaction header, EMADs at offset 48, and in a retrieve response the composite region the EMAD points
 * at (16-byte header, then 16-byte constituents). Writers return the length written, or 0 if it does not fit. */
#define FFA_MEM_RO 0x1u /* EMAD data access: read-only (bits 1:0), instruction access not specified */
#define FFA_MEM_RW 0x2u /* read-write */
struct ffa_constituent {
    uint64_t address;
    uint32_t pages;
};
/* A retrieve request for one receiver (itself): header with sender and handle, one EMAD, no composite. */
uint32_t ffa_mem_retrieve_request_write(void *buffer, size_t size, uint64_t handle, uint16_t sender,
                                        uint16_t receiver, uint8_t permissions);
/* Reads the constituents of a retrieve response's first EMAD; returns how many (at most max), 0 if malformed. */
uint32_t ffa_mem_retrieve_resp_constituents(const void *buffer, uint32_t length, struct ffa_constituent *out,
                                            uint32_t max);
/* The relinquish descriptor: handle, flags 0, one endpoint (the caller). */
uint32_t ffa_mem_relinquish_write(void *buffer, size_t size, uint64_t handle, uint16_t endpoint);

/* Console: FFA_CONSOLE_LOG_64, up to 128 characters per call (longer text takes several calls). */
void ffa_console_write(const char *text, size_t length);
void ffa_puts(const char *text);                 /* text and a newline, in as few calls as it takes */
void ffa_printf(const char *format, ...);        /* %s %d %u %x %lx %lu %ld %c %%, nothing else */

/* Gunyah hypercalls in the SMCCC form: x0 = 0xC6008000 | n over HVC, arguments from x1. */
#define GH_CALL(n) (0xC6008000u | (n))
#define GH_HYP_IDENTIFY 0x00
#define GH_DOORBELL_SEND 0x12
#define GH_DOORBELL_RECEIVE 0x13
#define GH_MSGQUEUE_SEND 0x1B
#define GH_MSGQUEUE_RECEIVE 0x1C
void gh_hypercall(uint32_t n, ffa_regs *io);
int64_t gh_hyp_identify(uint64_t *api_info, uint64_t flags[3]);
int64_t gh_doorbell_send(uint64_t doorbell, uint64_t new_flags, uint64_t *old_flags);
int64_t gh_doorbell_receive(uint64_t doorbell, uint64_t clear_flags, uint64_t *old_flags);
int64_t gh_msgqueue_send(uint64_t queue, const void *buffer, uint64_t size, uint64_t flags, int *not_full);
int64_t gh_msgqueue_receive(uint64_t queue, void *buffer, uint64_t size, uint64_t *received, int *not_empty);

/* Ends this vCPU's code: PSCI CPU_OFF (0x84000002), which Firmament's emulator treats as the code returning. */
__attribute__((noreturn)) void ffa_cpu_off(void);

/* Small freestanding helpers. */
void *memset(void *dst, int value, size_t size);
void *memcpy(void *dst, const void *src, size_t size);
size_t strlen(const char *text);

/* What crt0 passes to main: the vCPU index and the entry registers x1..x7 the platform file gives. */
int main(uint64_t vcpu, const uint64_t args[7]);

#endif
