/*
 * gw_metrics.c - Prometheus text exposition, latency histograms and the /metrics, /health,
 * /ready listener (see gw_metrics.h). The listener is deliberately small: GET only, no body, a
 * short timeout and a small header limit, because it is reachable by whatever can reach its
 * port (keep it on loopback or a management network).
 */
#include "gw_metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "gw_core.h"

#define LOG_CAT "metrics"

const double gw_histo_latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                          0.1,    0.25,  0.5,    1,     2.5,  5};
const unsigned gw_histo_latency_n =
    sizeof(gw_histo_latency_bounds) / sizeof(gw_histo_latency_bounds[0]);

/* ---------------------------------------------------------------- histograms */

void gw_histo_init(struct gw_histo *h, const double *bounds, unsigned n)
{
    memset(h, 0, sizeof(*h));
    h->bounds = bounds;
    h->n_bounds = n > GW_HISTO_MAX_BUCKETS ? GW_HISTO_MAX_BUCKETS : n;
}

void gw_histo_observe(struct gw_histo *h, double seconds)
{
    unsigned i = 0;

    if (!(seconds > 0)) /* also NaN */
        seconds = 0;
    while (i < h->n_bounds && seconds > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += seconds;
}

int64_t gw_mono_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---------------------------------------------------------------- text format */

static bool name_ok(const char *s, bool colon)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool alpha =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
        if (!alpha && !(p != s && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

static const char *const type_names[] = {"counter", "gauge", "histogram"};

int gw_prom_family(struct evbuffer *out, const char *name, enum gw_prom_type type, const char *help)
{
    if (!name_ok(name, true)) {
        GW_LOGE(LOG_CAT, "metric family name refused: %.80s", name ? name : "(null)");
        return -EINVAL;
    }
    evbuffer_add_printf(out, "# HELP %s ", name);
    /* HELP text escapes only backslash and newline */
    for (const char *p = help ? help : ""; *p; p++) {
        if (*p == '\\')
            evbuffer_add(out, "\\\\", 2);
        else if (*p == '\n')
            evbuffer_add(out, "\\n", 2);
        else
            evbuffer_add(out, p, 1);
    }
    evbuffer_add_printf(out, "\n# TYPE %s %s\n", name, type_names[type]);
    return 0;
}

/* Writes name{labels[,extra]} (no value). extra_name may be NULL. */
static int write_series(struct evbuffer *out, const char *name, const char *suffix,
                        const char *const *labels, const char *extra_name, const char *extra_val)
{
    bool any = false;

    if (!name_ok(name, true))
        return -EINVAL;
    for (size_t i = 0; labels && labels[i]; i += 2) {
        if (!name_ok(labels[i], false) || !labels[i + 1] || strncmp(labels[i], "__", 2) == 0) {
            GW_LOGE(LOG_CAT, "%s: label name refused: %.80s", name, labels[i]);
            return -EINVAL;
        }
    }
    evbuffer_add_printf(out, "%s%s", name, suffix ? suffix : "");
    for (size_t i = 0; labels && labels[i]; i += 2) {
        evbuffer_add_printf(out, "%s%s=\"", any ? "," : "{", labels[i]);
        any = true;
        for (const char *p = labels[i + 1]; *p; p++) {
            if (*p == '\\' || *p == '"')
                evbuffer_add_printf(out, "\\%c", *p);
            else if (*p == '\n')
                evbuffer_add(out, "\\n", 2);
            else
                evbuffer_add(out, p, 1);
        }
        evbuffer_add(out, "\"", 1);
    }
    if (extra_name) {
        evbuffer_add_printf(out, "%s%s=\"%s\"", any ? "," : "{", extra_name, extra_val);
        any = true;
    }
    if (any)
        evbuffer_add(out, "}", 1);
    return 0;
}

static void write_double(struct evbuffer *out, double v)
{
    if (isnan(v))
        evbuffer_add_printf(out, " NaN\n");
    else if (isinf(v))
        evbuffer_add_printf(out, " %s\n", v > 0 ? "+Inf" : "-Inf");
    else
        evbuffer_add_printf(out, " %.17g\n", v);
}

int gw_prom_sample(struct evbuffer *out, const char *name, const char *const *labels, double value)
{
    int rc = write_series(out, name, NULL, labels, NULL, NULL);

    if (rc < 0)
        return rc;
    write_double(out, value);
    return 0;
}

int gw_prom_sample_u64(struct evbuffer *out, const char *name, const char *const *labels,
                       uint64_t value)
{
    int rc = write_series(out, name, NULL, labels, NULL, NULL);

    if (rc < 0)
        return rc;
    evbuffer_add_printf(out, " %" PRIu64 "\n", value);
    return 0;
}

int gw_prom_histo(struct evbuffer *out, const char *name, const char *const *labels,
                  const struct gw_histo *h)
{
    uint64_t cum = 0;
    char le[32];
    int rc;

    for (unsigned i = 0; i <= h->n_bounds; i++) {
        cum += h->counts[i];
        if (i < h->n_bounds)
            snprintf(le, sizeof(le), "%g", h->bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        rc = write_series(out, name, "_bucket", labels, "le", le);
        if (rc < 0)
            return rc;
        evbuffer_add_printf(out, " %" PRIu64 "\n", cum);
    }
    write_series(out, name, "_sum", labels, NULL, NULL);
    write_double(out, h->sum);
    write_series(out, name, "_count", labels, NULL, NULL);
    evbuffer_add_printf(out, " %" PRIu64 "\n", h->count);
    return 0;
}

/* ---------------------------------------------------------------- the listener */

struct gw_obs_http {
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    struct gw_obs_http_ops ops;
    void *arg;
    uint16_t port;
};

int gw_obs_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    const char *colon, *h = s;
    size_t hl;
    char *end;
    unsigned long p;

    if (!s || !*s)
        return -EINVAL;
    colon = strrchr(s, ':');
    if (!colon || !colon[1])
        return -EINVAL;
    hl = (size_t)(colon - s);
    if (s[0] == '[') { /* [v6]:port */
        if (hl < 3 || s[hl - 1] != ']')
            return -EINVAL;
        h = s + 1;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen)
        return -EINVAL;
    errno = 0;
    p = strtoul(colon + 1, &end, 10);
    if (errno || *end || p > 65535 || colon[1] < '0' || colon[1] > '9')
        return -EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                       struct evbuffer *body)
{
    struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);

    evhttp_add_header(hdr, "Content-Type", ctype);
    evhttp_add_header(hdr, "Cache-Control", "no-store");
    evhttp_send_reply(req, code, reason, body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct gw_obs_http *h = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    struct evbuffer *body = evbuffer_new();
    char why[200] = "";

    if (!body) {
        evhttp_send_error(req, 503, NULL);
        return;
    }
    if (!path || (strcmp(path, "/metrics") != 0 && strcmp(path, "/health") != 0 &&
                  strcmp(path, "/ready") != 0)) {
        evbuffer_add_printf(body, "not found: GET /metrics, /health or /ready\n");
        reply_text(req, 404, "Not Found", "text/plain; charset=utf-8", body);
    } else if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
        evbuffer_add_printf(body, "method not allowed\n");
        reply_text(req, 405, "Method Not Allowed", "text/plain; charset=utf-8", body);
    } else if (strcmp(path, "/metrics") == 0) {
        h->ops.metrics(h->arg, body);
        reply_text(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
    } else if (strcmp(path, "/health") == 0) {
        evbuffer_add_printf(body, "alive\n");
        reply_text(req, 200, "OK", "text/plain; charset=utf-8", body);
    } else if (!h->ops.ready || h->ops.ready(h->arg, why, sizeof(why))) {
        evbuffer_add_printf(body, "ready\n");
        reply_text(req, 200, "OK", "text/plain; charset=utf-8", body);
    } else {
        evbuffer_add_printf(body, "not ready: %s\n", why[0] ? why : "unknown");
        reply_text(req, 503, "Service Unavailable", "text/plain; charset=utf-8", body);
    }
    evbuffer_free(body);
}

struct gw_obs_http *gw_obs_http_new(struct event_base *base, const char *listen,
                                    const struct gw_obs_http_ops *ops, void *arg, char *err,
                                    size_t errlen)
{
    struct gw_obs_http *h;
    char host[256];
    uint16_t port;

    if (!ops || !ops->metrics || gw_obs_parse_listen(listen, host, sizeof(host), &port) < 0) {
        snprintf(err, errlen, "metrics.listen \"%.100s\": expected host:port", listen);
        return NULL;
    }
    h = calloc(1, sizeof(*h));
    if (!h || !(h->http = evhttp_new(base))) {
        snprintf(err, errlen, "out of memory");
        gw_obs_http_free(h);
        return NULL;
    }
    h->ops = *ops;
    h->arg = arg;
    evhttp_set_max_body_size(h->http, 0);
    evhttp_set_max_headers_size(h->http, 8 * 1024);
    evhttp_set_timeout(h->http, 10);
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(h->http, on_request, h);
    h->sock = evhttp_bind_socket_with_handle(h->http, host, port);
    if (!h->sock) {
        snprintf(err, errlen, "metrics.listen %s: cannot listen: %s", listen, strerror(errno));
        gw_obs_http_free(h);
        return NULL;
    }
    {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        evutil_socket_t fd = evhttp_bound_socket_get_fd(h->sock);
        if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
            if (ss.ss_family == AF_INET)
                h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
            else if (ss.ss_family == AF_INET6)
                h->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
    return h;
}

uint16_t gw_obs_http_port(const struct gw_obs_http *h)
{
    return h ? h->port : 0;
}

void gw_obs_http_free(struct gw_obs_http *h)
{
    if (!h)
        return;
    if (h->http)
        evhttp_free(h->http);
    free(h);
}
