/*
 * gw_metrics.h - what a process needs to be watched from outside: the Prometheus text exposition
 * format (version 0.0.4) written into a libevent buffer, fixed-bucket latency histograms, and a
 * small HTTP listener (libevent's evhttp) answering GET /metrics, /health and /ready for
 * Prometheus, load balancers and systemd.
 *
 * Conventions kept by the writer (https://prometheus.io/docs/practices/naming/): counters end in
 * _total, durations are in seconds (_seconds), every family has one # HELP and one # TYPE line
 * before its samples, label values are escaped (\\, \", \n). The caller names families; the
 * writer checks names and label names against the format's grammar and skips (and logs) what
 * does not fit, so a scrape never fails on a bad label value coming from data.
 *
 * Ownership: a struct gw_histo is embedded in its owner (no allocation); the listener is
 * created and freed by its owner, and calls back on the owner's loop.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct event_base;

/* ---------------------------------------------------------------- histograms */

#define GW_HISTO_MAX_BUCKETS 16

/* Cumulative counts are computed when written; counts[i] holds observations in
 * (bounds[i-1], bounds[i]], counts[n_bounds] those above the last bound. */
struct gw_histo {
    const double *bounds; /* upper bounds in seconds, ascending, static storage */
    unsigned n_bounds;    /* <= GW_HISTO_MAX_BUCKETS */
    uint64_t counts[GW_HISTO_MAX_BUCKETS + 1];
    uint64_t count;
    double sum;
};

/* The default latency buckets: 0.5 ms .. 5 s (a Redis commit and a USSD hop both fit). */
extern const double gw_histo_latency_bounds[];
extern const unsigned gw_histo_latency_n;

/* Initialises h with bounds (borrowed; n clamped to GW_HISTO_MAX_BUCKETS). */
void gw_histo_init(struct gw_histo *h, const double *bounds, unsigned n);
/* Adds one observation of seconds (negative values count as 0). */
void gw_histo_observe(struct gw_histo *h, double seconds);
/* A monotonic clock in microseconds, for latencies (never the injectable wall clock: a test that
 * moves gw_clock must not produce hours-long commits). */
int64_t gw_mono_us(void);

/* ---------------------------------------------------------------- text format */

enum gw_prom_type { GW_PROM_COUNTER, GW_PROM_GAUGE, GW_PROM_HISTOGRAM };

/* Writes "# HELP name help" and "# TYPE name type". Call once per family, before its samples.
 * Returns 0, or -EINVAL (nothing written, logged) when name is not [a-zA-Z_:][a-zA-Z0-9_:]*. */
int gw_prom_family(struct evbuffer *out, const char *name, enum gw_prom_type type,
                   const char *help);
/* One sample line: name{labels} value. labels is NULL or a NULL-terminated array of name, value
 * pairs: (const char *[]){"outcome", "credited", NULL}. Label values may be any bytes (escaped);
 * label names must match [a-zA-Z_][a-zA-Z0-9_]* (else -EINVAL, nothing written). */
int gw_prom_sample(struct evbuffer *out, const char *name, const char *const *labels, double value);
/* Same for an integer counter or gauge (exact above 2^53). */
int gw_prom_sample_u64(struct evbuffer *out, const char *name, const char *const *labels,
                       uint64_t value);
/* Writes a histogram's _bucket (cumulative, with le="+Inf"), _sum and _count lines. The family
 * line (GW_PROM_HISTOGRAM) is the caller's. */
int gw_prom_histo(struct evbuffer *out, const char *name, const char *const *labels,
                  const struct gw_histo *h);

/* ---------------------------------------------------------------- the listener */

struct gw_obs_http_ops {
    /* Writes the exposition into out. Required. */
    void (*metrics)(void *arg, struct evbuffer *out);
    /* Whether the process can take traffic; when not, why (a short ASCII text) into why.
     * NULL: ready whenever alive. */
    bool (*ready)(void *arg, char *why, size_t whylen);
};

struct gw_obs_http;

/* Listens on "host:port" ("127.0.0.1:9464", "[::1]:9464"; port 0 = any free port, see
 * gw_obs_http_port). ops is copied; arg is borrowed and must outlive the listener. Answers:
 *   GET /metrics  200 text/plain; version=0.0.4
 *   GET /health   200 "alive" (the loop runs)
 *   GET /ready    200 "ready" or 503 "not ready: <why>"
 *   HEAD of each, 404 for other paths, 405 for other methods; bodies are refused (max 0 bytes).
 * Returns NULL with err set (bad address, cannot bind, ENOMEM). */
struct gw_obs_http *gw_obs_http_new(struct event_base *base, const char *listen,
                                    const struct gw_obs_http_ops *ops, void *arg, char *err,
                                    size_t errlen);
/* The bound port (useful with port 0). */
uint16_t gw_obs_http_port(const struct gw_obs_http *h);
/* Closes the socket and frees. NULL is a no-op. */
void gw_obs_http_free(struct gw_obs_http *h);

/* Parses "host:port" / "[v6]:port" into host and port (0..65535). 0 or -EINVAL. */
int gw_obs_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port);

#endif
