/*
 * smpp_wire.h - private to smpp/: big-endian readers and writers and a bounds-checked cursor over
 * an SMPP body, shared by the pre-scan (smpp_frame.c) and the codec (smpp_codec.c) so that both
 * walk the wire format the same way. Nothing here allocates; a cursor points into its caller's
 * buffer and never outlives the call that made it.
 */
#ifndef SMPP_WIRE_H
#define SMPP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* SMPP 3.4 §5.2 C-octet string maxima, terminating NUL included. */
#define SMPP_MAX_SERVICE_TYPE 6
#define SMPP_MAX_ADDR 21
#define SMPP_MAX_TIME 17
#define SMPP_MAX_SYSTEM_ID 16
#define SMPP_MAX_PASSWORD 9
#define SMPP_MAX_SYSTEM_TYPE 13
#define SMPP_MAX_ADDRESS_RANGE 41
#define SMPP_MAX_MESSAGE_ID 65
#define SMPP_MAX_SHORT_MESSAGE 254 /* sm_length 0..254 */
#define SMPP_TLV_VALUE_MAX 1024    /* libsmpp34 MAX_TLV_SIZE */

static inline uint16_t smpp_rd16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t smpp_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void smpp_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void smpp_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A read cursor: p advances towards end, never past it. */
struct smpp_cur {
    const uint8_t *p;
    const uint8_t *end;
};

static inline size_t smpp_cur_left(const struct smpp_cur *c)
{
    return (size_t)(c->end - c->p);
}

/* Outcome of looking for a C-octet string at the cursor. */
enum smpp_cstr_res {
    SMPP_CSTR_OK = 0, /* terminated within max; *n is its length without the NUL */
    SMPP_CSTR_LONG,   /* no NUL within max octets although the body goes on */
    SMPP_CSTR_TRUNC,  /* the body ends before a NUL and before max octets */
};

/* Finds the C-octet string at the cursor (max includes the NUL) and, when it is well formed,
 * advances past its NUL. */
static inline enum smpp_cstr_res smpp_cur_cstr(struct smpp_cur *c, size_t max, size_t *n)
{
    size_t left = smpp_cur_left(c);
    size_t scan = left < max ? left : max;
    const uint8_t *nul = memchr(c->p, 0, scan);

    if (nul == NULL)
        return left < max ? SMPP_CSTR_TRUNC : SMPP_CSTR_LONG;
    *n = (size_t)(nul - c->p);
    c->p = nul + 1;
    return SMPP_CSTR_OK;
}

#endif
