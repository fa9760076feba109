/*
 * gw_http.h - the gateway's asynchronous HTTP client: libcurl's multi_socket interface driven by
 * the caller's libevent loop (the library never owns the loop). Used by the fulfilment worker to
 * call the carrier's provisioning API (catalog/cat_prov.c); owned by the fulfilment engineer.
 *
 * Callback contract (as gw_redis.h): if gw_http_request() returns < 0 its callback never runs; if
 * it returns 0 the callback runs exactly once, from the event loop, never from inside the
 * request call:
 *   err == 0:  resp != NULL, whatever the HTTP status (a 500 is a protocol outcome, not a failure)
 *   err < 0:   resp == NULL; -ETIMEDOUT (the request's deadline, connect included), -ECONNREFUSED,
 *              -EHOSTUNREACH (name not resolved, no route), -ECONNRESET (the peer closed without an
 *              answer or mid-answer), -EMSGSIZE (the answer exceeded max_response_bytes),
 *              -ECANCELED (gw_http_free), -EIO (anything else curl reports)
 * The response (body, headers) is owned by the client and valid only during the callback.
 *
 * Every request has a deadline: timeout_ms is required (CURLOPT_TIMEOUT_MS), the connect phase has
 * its own (CURLOPT_CONNECTTIMEOUT_MS). Only http:// and https:// URLs are followed, redirects are
 * not. Header names and values are validated (no CR/LF: a value built from untrusted input cannot
 * inject a header).
 */
#ifndef GW_HTTP_H
#define GW_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

struct gw_http_config {
    uint32_t max_response_bytes; /* body bytes kept; more fails with -EMSGSIZE (default 65536) */
    uint32_t max_connections;    /* open connections, all hosts (default 32; curl queues above) */
    uint32_t max_pending;        /* requests in flight before -ENOBUFS (default 10000) */
};
void gw_http_config_defaults(struct gw_http_config *cfg);

struct gw_http_header {
    const char *name;  /* a token: letters, digits and !#$%&'*+-.^_`|~ */
    const char *value; /* printable, no CR/LF */
};

struct gw_http_request {
    const char *method; /* "GET", "POST", "PUT", "PATCH", "DELETE"; NULL = GET */
    const char *url;    /* http:// or https:// */
    const struct gw_http_header *headers;
    size_t n_headers; /* at most GW_HTTP_MAX_HEADERS */
    const void *body; /* copied; NULL with body_len 0 = no body */
    size_t body_len;
    uint32_t timeout_ms;         /* the whole request's deadline, 1..3600000, required */
    uint32_t connect_timeout_ms; /* 0 = timeout_ms */
};

#define GW_HTTP_MAX_HEADERS 32        /* headers in, and headers kept from the answer */
#define GW_HTTP_MAX_HEADER_BYTES 8192 /* answer header bytes kept; the rest are dropped */

struct gw_http_response {
    long status;      /* 200, 404, ... of the final answer */
    const char *body; /* NUL-terminated (the NUL is not counted); may contain NULs */
    size_t body_len;
    const struct gw_http_header *headers; /* of the final answer, in order, values trimmed */
    size_t n_headers;
    uint32_t elapsed_ms; /* from the request call to the answer */
};

typedef void (*gw_http_cb)(void *arg, int err, const struct gw_http_response *resp);

struct gw_http_stats {
    uint64_t requests, completed, failed, timeouts, refused, too_big, canceled;
    uint32_t in_flight;
};

struct gw_http;

/* A client on base; cfg is copied (NULL = defaults). NULL on ENOMEM or when curl cannot start. */
struct gw_http *gw_http_new(struct event_base *base, const struct gw_http_config *cfg);

/* Starts a request. Returns 0 (cb runs once, later, from the loop), or -EINVAL (bad URL, method,
 * header or timeout), -ENOBUFS (max_pending in flight), -ENOMEM, -EIO (curl refused it): then cb
 * never runs. Everything in req is copied before returning. */
int gw_http_request(struct gw_http *h, const struct gw_http_request *req, gw_http_cb cb, void *arg);

/* Case-insensitive lookup of a response header's value, or NULL. */
const char *gw_http_response_header(const struct gw_http_response *resp, const char *name);

void gw_http_get_stats(const struct gw_http *h, struct gw_http_stats *out);

/* Fails every request in flight with -ECANCELED (their callbacks run before this returns, and
 * must not start new requests), then frees. NULL is a no-op. Never call it from inside one of
 * this client's callbacks. */
void gw_http_free(struct gw_http *h);

#endif
