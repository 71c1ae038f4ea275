/* Firmament guest library: each FF-A call fills a frame, traps through the chosen conduit, reads the answer. */
#include "ffa.h"

#include <stdarg.h>

enum ffa_conduit ffa_conduit = FFA_CONDUIT_HVC;

void ffa_call(ffa_regs *r)
{
    if (ffa_conduit == FFA_CONDUIT_SMC) {
        ffa_call_smc(r);
    } else {
        ffa_call_hvc(r);
    }
}

static void clear(ffa_regs *r) { memset(r, 0, sizeof *r); }

static int32_t simple(ffa_regs *r)
{
    ffa_call(r);
    return ffa_status(r);
}

uint32_t ffa_version(uint32_t wanted)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_VERSION;
    r.x[1] = wanted;
    ffa_call(&r);
    return (uint32_t)r.x[0];
}

int32_t ffa_id_get(uint16_t *id)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_ID_GET;
    int32_t status = simple(&r);
    if (status == 0) {
        *id = (uint16_t)r.x[2];
    }
    return status;
}

int32_t ffa_features(uint32_t function, ffa_regs *answer)
{
    clear(answer);
    answer->x[0] = FFA_FEATURES;
    answer->x[1] = function;
    return simple(answer);
}

int32_t ffa_rxtx_map(uint64_t tx, uint64_t rx, uint32_t pages)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_RXTX_MAP64;
    r.x[1] = tx;
    r.x[2] = rx;
    r.x[3] = pages;
    return simple(&r);
}

int32_t ffa_rxtx_unmap(uint16_t id)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_RXTX_UNMAP;
    r.x[1] = (uint64_t)id << 16;
    return simple(&r);
}

int32_t ffa_rx_release(void)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_RX_RELEASE;
    return simple(&r);
}

void ffa_msg_wait(ffa_regs *out)
{
    clear(out);
    out->x[0] = FFA_MSG_WAIT;
    ffa_call(out);
}

static void direct(ffa_regs *io, uint32_t function, uint16_t from, uint16_t to, const uint64_t payload[5])
{
    clear(io);
    io->x[0] = function;
    io->x[1] = ((uint64_t)from << 16) | to;
    for (int i = 0; i < 5; i++) {
        io->x[3 + i] = payload[i];
    }
    ffa_call(io);
}

void ffa_direct_req(ffa_regs *io, uint16_t from, uint16_t to, const uint64_t payload[5])
{
    direct(io, FFA_MSG_SEND_DIRECT_REQ64, from, to, payload);
}

void ffa_direct_resp(ffa_regs *io, uint16_t from, uint16_t to, const uint64_t payload[5])
{
    direct(io, FFA_MSG_SEND_DIRECT_RESP64, from, to, payload);
}

void ffa_direct_req2(ffa_regs *io, uint16_t from, uint16_t to, const uint64_t uuid[2], const uint64_t payload[14])
{
    clear(io);
    io->x[0] = FFA_MSG_SEND_DIRECT_REQ2;
    io->x[1] = ((uint64_t)from << 16) | to;
    io->x[2] = uuid[0];
    io->x[3] = uuid[1];
    for (int i = 0; i < 14; i++) {
        io->x[4 + i] = payload[i];
    }
    ffa_call(io);
}

void ffa_direct_resp2(ffa_regs *io, uint16_t from, uint16_t to, const uint64_t payload[14])
{
    clear(io);
    io->x[0] = FFA_MSG_SEND_DIRECT_RESP2;
    io->x[1] = ((uint64_t)from << 16) | to;
    for (int i = 0; i < 14; i++) {
        io->x[4 + i] = payload[i];
    }
    ffa_call(io);
}

int32_t ffa_msg_send2(uint16_t sender_vm, uint32_t flags)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_MSG_SEND2;
    r.x[1] = (uint64_t)sender_vm << 16;
    r.x[2] = flags;
    return simple(&r);
}

void ffa_yield(ffa_regs *out)
{
    clear(out);
    out->x[0] = FFA_YIELD;
    ffa_call(out);
}

void ffa_run(ffa_regs *out, uint16_t target, uint16_t vcpu)
{
    clear(out);
    out->x[0] = FFA_RUN;
    out->x[1] = ((uint64_t)target << 16) | vcpu;
    ffa_call(out);
}

int32_t ffa_notification_bind(uint16_t sender, uint16_t receiver, uint32_t flags, uint64_t bitmap)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_NOTIFICATION_BIND;
    r.x[1] = ((uint64_t)sender << 16) | receiver;
    r.x[2] = flags;
    r.x[3] = (uint32_t)bitmap;
    r.x[4] = bitmap >> 32;
    return simple(&r);
}

int32_t ffa_notification_unbind(uint16_t sender, uint16_t receiver, uint64_t bitmap)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_NOTIFICATION_UNBIND;
    r.x[1] = ((uint64_t)sender << 16) | receiver;
    r.x[3] = (uint32_t)bitmap;
    r.x[4] = bitmap >> 32;
    return simple(&r);
}

int32_t ffa_notification_set(uint16_t sender, uint16_t receiver, uint32_t flags, uint64_t bitmap)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_NOTIFICATION_SET;
    r.x[1] = ((uint64_t)sender << 16) | receiver;
    r.x[2] = flags;
    r.x[3] = (uint32_t)bitmap;
    r.x[4] = bitmap >> 32;
    return simple(&r);
}

int32_t ffa_notification_get(uint16_t receiver, uint16_t vcpu, uint32_t flags,
                             uint64_t *from_sp, uint64_t *from_vm, uint64_t *from_framework)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_NOTIFICATION_GET;
    r.x[1] = ((uint64_t)vcpu << 16) | receiver;
    r.x[2] = flags;
    int32_t status = simple(&r);
    if (status == 0) {
        *from_sp = (uint32_t)r.x[2] | ((uint64_t)(uint32_t)r.x[3] << 32);
        *from_vm = (uint32_t)r.x[4] | ((uint64_t)(uint32_t)r.x[5] << 32);
        *from_framework = (uint32_t)r.x[6] | ((uint64_t)(uint32_t)r.x[7] << 32);
    }
    return status;
}

int32_t ffa_mem_share(uint32_t total_length, uint32_t fragment_length, uint64_t *handle)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_MEM_SHARE64;
    r.x[1] = total_length;
    r.x[2] = fragment_length;
    int32_t status = simple(&r);
    if (status == 0) {
        *handle = (uint32_t)r.x[2] | ((uint64_t)(uint32_t)r.x[3] << 32);
    }
    return status;
}

int32_t ffa_mem_retrieve_req(uint32_t total_length, uint32_t fragment_length, ffa_regs *answer)
{
    clear(answer);
    answer->x[0] = FFA_MEM_RETRIEVE_REQ64;
    answer->x[1] = total_length;
    answer->x[2] = fragment_length;
    return simple(answer);
}

int32_t ffa_mem_relinquish(void)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_MEM_RELINQUISH;
    return simple(&r);
}

int32_t ffa_mem_reclaim(uint64_t handle, uint32_t flags)
{
    ffa_regs r;
    clear(&r);
    r.x[0] = FFA_MEM_RECLAIM;
    r.x[1] = (uint32_t)handle;
    r.x[2] = handle >> 32;
    r.x[3] = flags;
    return simple(&r);
}

/* Little-endian field access by byte: descriptors sit at any offset in RX/TX, and -mstrict-align forbids guessing. */
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint32_t get32(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

#define MTD_HEADER 48u
#define MTD_EMAD 32u
#define COMPOSITE_HEADER 16u
#define CONSTITUENT 16u

uint32_t ffa_mem_retrieve_request_write(void *buffer, size_t size, uint64_t handle, uint16_t sender,
                                        uint16_t receiver, uint8_t permissions)
{
    uint32_t length = MTD_HEADER + MTD_EMAD;
    if (size < length) {
        return 0;
    }
    uint8_t *d = buffer;
    memset(d, 0, length);
    put16(d + 0, sender);      /* attributes (2) and flags (4) stay 0: the sender's choice stands */
    put64(d + 8, handle);
    put32(d + 24, MTD_EMAD);   /* EMAD size */
    put32(d + 28, 1);          /* EMAD count */
    put32(d + 32, MTD_HEADER); /* EMAD offset */
    uint8_t *e = d + MTD_HEADER;
    put16(e + 0, receiver);
    e[2] = permissions;        /* composite offset 0: a retrieve request has no composite */
    return length;
}

uint32_t ffa_mem_retrieve_resp_constituents(const void *buffer, uint32_t length, struct ffa_constituent *out,
                                            uint32_t max)
{
    const uint8_t *d = buffer;
    if (length < MTD_HEADER) {
        return 0;
    }
    uint32_t emad_offset = get32(d + 32);
    if (get32(d + 28) == 0 || emad_offset > length || length - emad_offset < 8) {
        return 0;
    }
    uint32_t composite = get32(d + emad_offset + 4);
    if (composite > length || length - composite < COMPOSITE_HEADER) {
        return 0;
    }
    uint32_t count = get32(d + composite + 4);
    if ((length - composite - COMPOSITE_HEADER) / CONSTITUENT < count) {
        return 0;
    }
    uint32_t n = count < max ? count : max;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *c = d + composite + COMPOSITE_HEADER + (i * CONSTITUENT);
        out[i].address = get64(c);
        out[i].pages = get32(c + 8);
    }
    return n;
}

uint32_t ffa_mem_relinquish_write(void *buffer, size_t size, uint64_t handle, uint16_t endpoint)
{
    uint32_t length = 18;
    if (size < length) {
        return 0;
    }
    uint8_t *d = buffer;
    memset(d, 0, length);
    put64(d, handle);
    put32(d + 12, 1); /* endpoint count; flags (offset 8) 0 */
    put16(d + 16, endpoint);
    return length;
}

void ffa_console_write(const char *text, size_t length)
{
    while (length > 0) {
        size_t chunk = length > 128 ? 128 : length;
        ffa_regs r;
        clear(&r);
        r.x[0] = FFA_CONSOLE_LOG64;
        r.x[1] = chunk;
        for (size_t i = 0; i < chunk; i++) {
            r.x[2 + i / 8] |= (uint64_t)(uint8_t)text[i] << (8 * (i % 8));
        }
        ffa_call(&r);
        text += chunk;
        length -= chunk;
    }
}

void ffa_puts(const char *text)
{
    char line[128];
    size_t length = strlen(text);
    if (length < sizeof line) {
        memcpy(line, text, length);
        line[length] = '\n';
        ffa_console_write(line, length + 1);
        return;
    }
    ffa_console_write(text, length);
    ffa_console_write("\n", 1);
}

struct sink {
    char buffer[128];
    size_t used;
};

static void put(struct sink *s, char c)
{
    if (s->used == sizeof s->buffer) {
        ffa_console_write(s->buffer, s->used);
        s->used = 0;
    }
    s->buffer[s->used++] = c;
}

static void put_number(struct sink *s, uint64_t value, unsigned base, int negative)
{
    char digits[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(value % base);
        digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        value /= base;
    } while (value != 0);
    if (negative) {
        put(s, '-');
    }
    while (n > 0) {
        put(s, digits[--n]);
    }
}

void ffa_printf(const char *format, ...)
{
    struct sink s;
    s.used = 0;
    va_list args;
    va_start(args, format);
    for (const char *p = format; *p != '\0'; p++) {
        if (*p != '%') {
            put(&s, *p);
            continue;
        }
        int is_long = 0;
        if (p[1] == 'l') {
            is_long = 1;
            p++;
        }
        switch (*++p) {
        case 's':
            for (const char *t = va_arg(args, const char *); *t != '\0'; t++) {
                put(&s, *t);
            }
            break;
        case 'c':
            put(&s, (char)va_arg(args, int));
            break;
        case 'd': {
            int64_t v = is_long ? va_arg(args, int64_t) : va_arg(args, int);
            put_number(&s, v < 0 ? (uint64_t)-v : (uint64_t)v, 10, v < 0);
            break;
        }
        case 'u':
            put_number(&s, is_long ? va_arg(args, uint64_t) : va_arg(args, unsigned), 10, 0);
            break;
        case 'x':
            put_number(&s, is_long ? va_arg(args, uint64_t) : va_arg(args, unsigned), 16, 0);
            break;
        case '%':
            put(&s, '%');
            break;
        default:
            put(&s, '?');
            break;
        }
    }
    va_end(args);
    if (s.used > 0) {
        ffa_console_write(s.buffer, s.used);
    }
}

void gh_hypercall(uint32_t n, ffa_regs *io)
{
    io->x[0] = GH_CALL(n);
    ffa_call_hvc(io);
}

int64_t gh_hyp_identify(uint64_t *api_info, uint64_t flags[3])
{
    ffa_regs r;
    clear(&r);
    gh_hypercall(GH_HYP_IDENTIFY, &r);
    *api_info = r.x[0];
    flags[0] = r.x[1];
    flags[1] = r.x[2];
    flags[2] = r.x[3];
    return 0;
}

int64_t gh_doorbell_send(uint64_t doorbell, uint64_t new_flags, uint64_t *old_flags)
{
    ffa_regs r;
    clear(&r);
    r.x[1] = doorbell;
    r.x[2] = new_flags;
    gh_hypercall(GH_DOORBELL_SEND, &r);
    *old_flags = r.x[1];
    return (int64_t)r.x[0];
}

int64_t gh_doorbell_receive(uint64_t doorbell, uint64_t clear_flags, uint64_t *old_flags)
{
    ffa_regs r;
    clear(&r);
    r.x[1] = doorbell;
    r.x[2] = clear_flags;
    gh_hypercall(GH_DOORBELL_RECEIVE, &r);
    *old_flags = r.x[1];
    return (int64_t)r.x[0];
}

int64_t gh_msgqueue_send(uint64_t queue, const void *buffer, uint64_t size, uint64_t flags, int *not_full)
{
    ffa_regs r;
    clear(&r);
    r.x[1] = queue;
    r.x[2] = size;
    r.x[3] = (uint64_t)buffer;
    r.x[4] = flags;
    gh_hypercall(GH_MSGQUEUE_SEND, &r);
    *not_full = (int)r.x[1];
    return (int64_t)r.x[0];
}

int64_t gh_msgqueue_receive(uint64_t queue, void *buffer, uint64_t size, uint64_t *received, int *not_empty)
{
    ffa_regs r;
    clear(&r);
    r.x[1] = queue;
    r.x[2] = (uint64_t)buffer;
    r.x[3] = size;
    gh_hypercall(GH_MSGQUEUE_RECEIVE, &r);
    *received = r.x[1];
    *not_empty = (int)r.x[2];
    return (int64_t)r.x[0];
}

void ffa_cpu_off(void)
{
    for (;;) {
        ffa_regs r;
        clear(&r);
        r.x[0] = 0x84000002u; /* PSCI CPU_OFF: does not return */
        ffa_call(&r);
    }
}

void *memset(void *dst, int value, size_t size)
{
    unsigned char *d = dst;
    for (size_t i = 0; i < size; i++) {
        d[i] = (unsigned char)value;
    }
    return dst;
}

void *memcpy(void *dst, const void *src, size_t size)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    for (size_t i = 0; i < size; i++) {
        d[i] = s[i];
    }
    return dst;
}

size_t strlen(const char *text)
{
    size_t n = 0;
    while (text[n] != '\0') {
        n++;
    }
    return n;
}
