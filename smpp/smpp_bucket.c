/*
 * smpp_bucket.c - the token bucket that paces submit_sm to the TPS the carrier allows.
 *
 * struct smpp_bucket is a plain value owned by its caller (one per ESME link). Time is passed in
 * (milliseconds from a monotonic clock), so tests drive it with fake time and the bucket never
 * reads a clock itself. A bucket starts full: a freshly bound link may send a burst at once.
 */
#include "smpp.h"

#include <math.h>

/* Longest wait we ever report; also keeps the double -> int64 conversion defined when the rate
 * is absurdly small. */
#define BUCKET_WAIT_MAX_MS 86400000.0
/* A millionth of a token: below any rate that matters, above double rounding noise. */
#define BUCKET_EPSILON 1e-6

/* rate <= 0 (or NaN) means unlimited. A burst under one token could never pay for a submit, so it
 * is raised to one. */
void smpp_bucket_init(struct smpp_bucket *b, double rate, double burst, int64_t now_ms)
{
    b->rate = rate > 0 ? rate : 0;
    b->burst = burst >= 1 ? burst : 1;
    b->tokens = b->burst;
    b->last_ms = now_ms;
}

int64_t smpp_bucket_take(struct smpp_bucket *b, int64_t now_ms)
{
    double wait;

    if (!(b->rate > 0))
        return 0;
    /* A clock that steps back refills nothing; it only moves our reference point. */
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * b->rate / 1000.0;
        if (b->tokens > b->burst)
            b->tokens = b->burst;
    }
    b->last_ms = now_ms;
    /* The epsilon absorbs rounding: after waiting exactly the time we announced, a token must be
     * there, or the caller would be told to wait 1 ms more (the wait below aims at half of it). */
    if (b->tokens >= 1.0 - BUCKET_EPSILON) {
        b->tokens -= 1.0;
        if (b->tokens < 0)
            b->tokens = 0;
        return 0;
    }
    wait = ceil((1.0 - b->tokens - BUCKET_EPSILON / 2) * 1000.0 / b->rate);
    if (!(wait < BUCKET_WAIT_MAX_MS))
        wait = BUCKET_WAIT_MAX_MS;
    return wait < 1 ? 1 : (int64_t)wait;
}

void smpp_pace_note(struct smpp_pace *p, int64_t now_ms)
{
    uint32_t tail;

    /* Drop what left the window (t <= now - 1000). A full ring drops its oldest too: the peak then
     * saturates at SMPP_PACE_SLOTS, which the header documents. */
    while (p->n > 0 && (p->t[p->head] <= now_ms - 1000 || p->n == SMPP_PACE_SLOTS)) {
        p->head = (p->head + 1) % SMPP_PACE_SLOTS;
        p->n--;
    }
    tail = (p->head + p->n) % SMPP_PACE_SLOTS;
    /* A clock that steps back must not make the ring unordered. */
    if (p->n > 0) {
        int64_t last = p->t[(tail + SMPP_PACE_SLOTS - 1) % SMPP_PACE_SLOTS];
        if (now_ms < last)
            now_ms = last;
    }
    p->t[tail] = now_ms;
    p->n++;
    if (p->n > p->peak)
        p->peak = p->n;
}
