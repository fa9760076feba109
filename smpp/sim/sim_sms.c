/*
 * sim_sms.c - the handset side of SMS for smsc-sim's --phone: reading the user data header of a
 * submit_sm sent with esm_class UDHI (3GPP TS 23.040 9.2.3.24) and joining the parts of a
 * concatenated message (IE 0x00, 8-bit reference, and IE 0x08, 16-bit reference) in the order
 * of their sequence numbers, whatever order they arrive in.
 *
 * Pure: no I/O, no clock. struct sim_concat owns the parts it holds (malloc per part) until the
 * message completes, is pushed out by newer ones, or sim_concat_free(). Every header and length
 * comes from the gateway and is checked before use.
 *
 * Owner: smsc-sim (smpp/sim).
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define IE_CONCAT8 0x00
#define IE_CONCAT16 0x08

int sim_udh_parse(const uint8_t *data, size_t len, struct sim_udh *out)
{
    size_t udhl, i;

    memset(out, 0, sizeof(*out));
    if (len < 1)
        return -EBADMSG;
    udhl = data[0];
    if (udhl + 1 > len)
        return -EBADMSG;
    out->len = udhl + 1;
    for (i = 1; i < out->len;) {
        uint8_t iei, iel;
        const uint8_t *v;

        if (i + 2 > out->len)
            return -EBADMSG;
        iei = data[i];
        iel = data[i + 1];
        v = data + i + 2;
        if (i + 2 + iel > out->len)
            return -EBADMSG;
        /* 23.040: a receiver ignores a concatenation IE with total 0 or seq 0 or > total; the
         * last valid one wins when a header repeats it */
        if (iei == IE_CONCAT8 && iel == 3 && v[1] != 0 && v[2] != 0 && v[2] <= v[1]) {
            out->concat = true;
            out->ref = v[0];
            out->total = v[1];
            out->seq = v[2];
        } else if (iei == IE_CONCAT16 && iel == 4 && v[2] != 0 && v[3] != 0 && v[3] <= v[2]) {
            out->concat = true;
            out->ref = (uint16_t)(v[0] << 8 | v[1]);
            out->total = v[2];
            out->seq = v[3];
        }
        i += 2 + (size_t)iel;
    }
    return 0;
}

static void slot_clear(struct sim_concat_msg *m)
{
    for (size_t i = 0; i < 255; i++)
        free(m->part[i]);
    memset(m, 0, sizeof(*m));
}

void sim_concat_free(struct sim_concat *c)
{
    for (size_t i = 0; i < SIM_CONCAT_SLOTS; i++)
        slot_clear(&c->slot[i]);
}

/* The slot of (from, ref, total), or a free one, or the oldest (its parts dropped). */
static struct sim_concat_msg *slot_for(struct sim_concat *c, const char *from, uint16_t ref,
                                       uint8_t total)
{
    struct sim_concat_msg *free_slot = NULL, *oldest = NULL;

    for (size_t i = 0; i < SIM_CONCAT_SLOTS; i++) {
        struct sim_concat_msg *m = &c->slot[i];
        if (!m->used) {
            if (!free_slot)
                free_slot = m;
            continue;
        }
        if (m->ref == ref && m->total == total && strcmp(m->from, from) == 0)
            return m;
        if (!oldest || m->stamp < oldest->stamp)
            oldest = m;
    }
    if (!free_slot) {
        c->dropped++;
        slot_clear(oldest);
        free_slot = oldest;
    }
    free_slot->used = true;
    snprintf(free_slot->from, sizeof(free_slot->from), "%s", from);
    free_slot->ref = ref;
    free_slot->total = total;
    free_slot->stamp = ++c->clock;
    return free_slot;
}

int sim_concat_add(struct sim_concat *c, const char *from, const struct sim_udh *u,
                   uint8_t data_coding, const uint8_t *text, size_t len, uint8_t *out, size_t cap,
                   size_t *out_len, uint8_t *out_dc)
{
    struct sim_concat_msg *m;
    uint8_t *copy;
    size_t n = 0;
    int rc = 1;

    if (!u->concat || u->seq == 0 || u->seq > u->total || len > UINT16_MAX)
        return -EINVAL;
    m = slot_for(c, from, u->ref, u->total);
    copy = malloc(len ? len : 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, text, len);
    if (m->part[u->seq - 1]) {
        free(m->part[u->seq - 1]); /* a resent part replaces the first copy */
    } else {
        m->have++;
    }
    if (u->seq == 1 || m->have == 1)
        m->data_coding = data_coding; /* part 1 decides, as on a handset */
    m->part[u->seq - 1] = copy;
    m->len[u->seq - 1] = (uint16_t)len;
    if (m->have < m->total)
        return 0;
    for (size_t i = 0; i < m->total; i++) {
        if (n + m->len[i] > cap) {
            rc = -ENOSPC;
            break;
        }
        memcpy(out + n, m->part[i], m->len[i]);
        n += m->len[i];
    }
    *out_len = rc == 1 ? n : 0;
    *out_dc = m->data_coding;
    slot_clear(m);
    return rc;
}
