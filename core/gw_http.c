/*
 * gw_http.c - async HTTP on the caller's libevent loop with libcurl's multi_socket interface (see
 * gw_http.h for the contract). Owned by the fulfilment engineer.
 *
 * How the loop drives curl (the multi_socket pattern of curl's documentation):
 *   - curl tells us which sockets to watch through CURLMOPT_SOCKETFUNCTION (sock_cb): each socket
 *     gets one persistent libevent event, remembered with curl_multi_assign() and freed on
 *     CURL_POLL_REMOVE;
 *   - curl tells us when it wants to be woken up through CURLMOPT_TIMERFUNCTION (timer_fn): one
 *     libevent timer, re-armed on every call (-1 disarms it);
 *   - when a socket is ready or the timer fires, curl_multi_socket_action() does the work and
 *     check_done() collects the finished transfers and runs their callbacks.
 * curl_multi_socket_action() is called only from those libevent callbacks, never from
 * gw_http_request() (curl_multi_add_handle only asks for a timer through timer_fn), so a
 * callback can never run inside the request call, as the contract promises.
 *
 * Ownership: struct gw_http owns the multi handle, the timer, one gw_http_sock per watched socket
 * and one gw_http_req per request in flight (its easy handle, header list, body buffer). A req is
 * freed right after its callback returns. curl_global_init/cleanup are reference-counted by
 * client: every client lives on the loop's one thread.
 */
#include "gw_http.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "gw_core.h"

#define LOG_CAT "http"
#define URL_MAX 2048
#define HEADER_LINE_MAX 1024
#define TIMEOUT_MAX_MS 3600000u

struct gw_http_sock {
    struct gw_http *h;
    curl_socket_t fd;
    struct event *ev;
    struct gw_http_sock *prev, *next;
};

struct gw_http_req {
    struct gw_http *h;
    CURL *easy;
    struct curl_slist *hdrs;
    gw_http_cb cb;
    void *arg;
    int64_t started_ms;
    char *body; /* the answer, NUL-terminated */
    size_t len, cap;
    bool too_big;
    /* answer headers: "name\0value\0" pairs in hbuf (allocated on the first header) */
    char *hbuf;
    size_t hlen;
    uint16_t name_off[GW_HTTP_MAX_HEADERS], value_off[GW_HTTP_MAX_HEADERS];
    size_t n_hdr;
    struct gw_http_req *prev, *next;
};

struct gw_http {
    struct event_base *base;
    struct gw_http_config cfg;
    CURLM *multi;
    struct event *timer;
    struct gw_http_sock *socks;
    struct gw_http_req *reqs;
    bool closing;
    bool curl_ref; /* counted in curl_users */
    struct gw_http_stats st;
};

static unsigned curl_users; /* clients alive: curl_global_init on the first, cleanup on the last */

void gw_http_config_defaults(struct gw_http_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_response_bytes = 65536;
    cfg->max_connections = 32;
    cfg->max_pending = 10000;
}

/* ---------------------------------------------------------------- validation */

static bool url_ok(const char *url)
{
    size_t n;

    if (!url)
        return false;
    n = strnlen(url, URL_MAX + 1);
    if (n == 0 || n > URL_MAX)
        return false;
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c == 0x7f)
            return false;
    }
    return true;
}

/* RFC 9110 token characters */
static bool header_name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 128)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!isalnum(c) && !strchr("!#$%&'*+-.^_`|~", c))
            return false;
    }
    return true;
}

/* Field values: visible characters, spaces and tabs, and UTF-8 bytes; never CR, LF or NUL, which
 * would let a value end the header and start another one. */
static bool header_value_ok(const char *s)
{
    if (!s || strlen(s) > HEADER_LINE_MAX)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
    }
    return true;
}

static bool method_ok(const char *m)
{
    static const char *const ok[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (strcmp(m, ok[i]) == 0)
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- requests */

static void req_unlink(struct gw_http *h, struct gw_http_req *q)
{
    if (q->prev)
        q->prev->next = q->next;
    else
        h->reqs = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
    h->st.in_flight--;
}

static void req_free(struct gw_http_req *q)
{
    if (!q)
        return;
    if (q->easy)
        curl_easy_cleanup(q->easy);
    curl_slist_free_all(q->hdrs);
    free(q->body);
    free(q->hbuf);
    free(q);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct gw_http_req *q = ud;
    size_t n = size * nmemb;
    size_t max = q->h->cfg.max_response_bytes;

    if (n > max || q->len > max - n) {
        /* Returning less than n makes curl abort the transfer with CURLE_WRITE_ERROR: an
         * answer larger than we agreed to hold is not read to the end. */
        q->too_big = true;
        return 0;
    }
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap : 1024;
        while (cap < q->len + n + 1)
            cap *= 2;
        if (cap > (size_t)max + 1)
            cap = (size_t)max + 1;
        char *b = realloc(q->body, cap);
        if (!b)
            return 0;
        q->body = b;
        q->cap = cap;
    }
    memcpy(q->body + q->len, ptr, n);
    q->len += n;
    q->body[q->len] = '\0';
    return n;
}

/* Keeps "Name: value" lines of the final answer. A status line starts a new answer (after a
 * "100 Continue" or an interim answer), so what was kept so far is dropped. */
static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    struct gw_http_req *q = ud;
    size_t n = size * nitems, len = n;
    const char *colon;

    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        q->hlen = 0;
        q->n_hdr = 0;
        return n;
    }
    while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n'))
        len--;
    colon = memchr(buf, ':', len);
    if (!colon || colon == buf || q->n_hdr >= GW_HTTP_MAX_HEADERS)
        return n;
    if (!q->hbuf) {
        q->hbuf = malloc(GW_HTTP_MAX_HEADER_BYTES);
        if (!q->hbuf)
            return n;
    }
    size_t nlen = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
    if (q->hlen + nlen + vlen + 2 > GW_HTTP_MAX_HEADER_BYTES)
        return n; /* over the budget: dropped, the answer itself is still fine */
    q->name_off[q->n_hdr] = (uint16_t)q->hlen;
    memcpy(q->hbuf + q->hlen, buf, nlen);
    q->hlen += nlen;
    q->hbuf[q->hlen++] = '\0';
    q->value_off[q->n_hdr] = (uint16_t)q->hlen;
    memcpy(q->hbuf + q->hlen, v, vlen);
    q->hlen += vlen;
    q->hbuf[q->hlen++] = '\0';
    q->n_hdr++;
    return n;
}

static int map_error(struct gw_http_req *q, CURLcode rc)
{
    long os_errno = 0;

    switch (rc) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return -ETIMEDOUT;
    case CURLE_COULDNT_CONNECT:
        curl_easy_getinfo(q->easy, CURLINFO_OS_ERRNO, &os_errno);
        if (os_errno == EHOSTUNREACH || os_errno == ENETUNREACH)
            return -EHOSTUNREACH;
        return -ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return -EHOSTUNREACH;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        return q->too_big || rc == CURLE_FILESIZE_EXCEEDED ? -EMSGSIZE : -EIO;
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return -ECONNRESET;
    default:
        return -EIO;
    }
}

/* Runs q's callback with err (or with the answer when err == 0), then frees q. q is already out
 * of the multi handle and of the list. */
static void deliver(struct gw_http *h, struct gw_http_req *q, int err)
{
    struct gw_http_header hdrs[GW_HTTP_MAX_HEADERS];
    struct gw_http_response resp;
    int64_t el = gw_clock_mono_ms() - q->started_ms;

    if (err == 0) {
        memset(&resp, 0, sizeof(resp));
        curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &resp.status);
        resp.body = q->body ? q->body : "";
        resp.body_len = q->len;
        for (size_t i = 0; i < q->n_hdr; i++) {
            hdrs[i].name = q->hbuf + q->name_off[i];
            hdrs[i].value = q->hbuf + q->value_off[i];
        }
        resp.headers = hdrs;
        resp.n_headers = q->n_hdr;
        resp.elapsed_ms = el < 0 ? 0 : (el > UINT32_MAX ? UINT32_MAX : (uint32_t)el);
        h->st.completed++;
    } else {
        h->st.failed++;
        if (err == -ETIMEDOUT)
            h->st.timeouts++;
        else if (err == -ECONNREFUSED)
            h->st.refused++;
        else if (err == -EMSGSIZE)
            h->st.too_big++;
        else if (err == -ECANCELED)
            h->st.canceled++;
    }
    q->cb(q->arg, err, err == 0 ? &resp : NULL);
    req_free(q);
}

static void check_done(struct gw_http *h)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(h->multi, &left))) {
        struct gw_http_req *q = NULL;
        CURL *easy;
        CURLcode rc;

        if (msg->msg != CURLMSG_DONE)
            continue;
        /* msg is invalid once the handle leaves the multi handle: read it first */
        easy = msg->easy_handle;
        rc = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&q);
        curl_multi_remove_handle(h->multi, easy);
        if (!q)
            continue;
        req_unlink(h, q);
        deliver(h, q, map_error(q, rc));
    }
}

/* ---------------------------------------------------------------- curl <-> libevent */

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
    struct gw_http *h = arg;
    int action =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;

    curl_multi_socket_action(h->multi, fd, action, &running);
    /* The timer is left to curl (timer_fn(-1) disarms it): a callback run by check_done() may
     * start a request, and curl asks for a timer for it even when `running` said 0 here. */
    check_done(h);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct gw_http *h = arg;
    int running = 0;

    (void)fd;
    (void)what;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static void sock_free(struct gw_http *h, struct gw_http_sock *sk)
{
    if (sk->prev)
        sk->prev->next = sk->next;
    else
        h->socks = sk->next;
    if (sk->next)
        sk->next->prev = sk->prev;
    if (sk->ev)
        event_free(sk->ev);
    free(sk);
}

static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct gw_http *h = userp;
    struct gw_http_sock *sk = socketp;
    short kind;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (sk) {
            curl_multi_assign(h->multi, s, NULL);
            sock_free(h, sk);
        }
        return 0;
    }
    if (!sk) {
        sk = calloc(1, sizeof(*sk));
        if (!sk)
            return -1;
        sk->h = h;
        sk->fd = s;
        sk->next = h->socks;
        if (h->socks)
            h->socks->prev = sk;
        h->socks = sk;
        curl_multi_assign(h->multi, s, sk);
    }
    kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0) |
                   EV_PERSIST);
    if (sk->ev) {
        event_del(sk->ev);
        event_assign(sk->ev, h->base, s, kind, on_socket, h);
    } else {
        sk->ev = event_new(h->base, s, kind, on_socket, h);
        if (!sk->ev)
            return -1;
    }
    event_add(sk->ev, NULL);
    return 0;
}

static int timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
    struct gw_http *h = userp;
    struct timeval tv;

    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(h->timer);
        return 0;
    }
    /* 0 means "call me as soon as possible": from the loop, not from here, so that nothing
     * runs inside gw_http_request(). */
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
    evtimer_add(h->timer, &tv);
    return 0;
}

/* ---------------------------------------------------------------- public */

struct gw_http *gw_http_new(struct event_base *base, const struct gw_http_config *cfg)
{
    struct gw_http *h;

    if (!base)
        return NULL;
    h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->base = base;
    if (cfg)
        h->cfg = *cfg;
    else
        gw_http_config_defaults(&h->cfg);
    if (h->cfg.max_response_bytes == 0)
        h->cfg.max_response_bytes = 65536;
    if (curl_users == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(h);
        return NULL;
    }
    curl_users++;
    h->curl_ref = true;
    h->multi = curl_multi_init();
    h->timer = evtimer_new(base, on_timer, h);
    if (!h->multi || !h->timer) {
        gw_http_free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    if (h->cfg.max_connections)
        curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)h->cfg.max_connections);
    return h;
}

static int add_headers(struct gw_http_req *q, const struct gw_http_request *req)
{
    char line[HEADER_LINE_MAX + 160];
    bool has_expect = false;
    struct curl_slist *l;

    for (size_t i = 0; i < req->n_headers; i++) {
        const struct gw_http_header *hd = &req->headers[i];

        if (!header_name_ok(hd->name) || !header_value_ok(hd->value))
            return -EINVAL;
        if (strcasecmp(hd->name, "Expect") == 0)
            has_expect = true;
        /* "Name;" is curl's way to send a header with an empty value ("Name:" would remove it) */
        if (hd->value[0])
            snprintf(line, sizeof(line), "%s: %s", hd->name, hd->value);
        else
            snprintf(line, sizeof(line), "%s;", hd->name);
        l = curl_slist_append(q->hdrs, line);
        if (!l)
            return -ENOMEM;
        q->hdrs = l;
    }
    /* Without this curl sends "Expect: 100-continue" for bodies over 1 KiB and waits up to a
     * second for an interim answer many small servers never send. */
    if (!has_expect) {
        l = curl_slist_append(q->hdrs, "Expect:");
        if (!l)
            return -ENOMEM;
        q->hdrs = l;
    }
    return 0;
}

int gw_http_request(struct gw_http *h, const struct gw_http_request *req, gw_http_cb cb, void *arg)
{
    struct gw_http_req *q = NULL;
    const char *method;
    uint32_t cto;
    int rc = -EIO;

    if (!h || !req || !cb)
        return -EINVAL;
    if (h->closing)
        return -ECANCELED;
    method = req->method ? req->method : "GET";
    if (!url_ok(req->url) || !method_ok(method) || req->n_headers > GW_HTTP_MAX_HEADERS ||
        (req->n_headers && !req->headers) || (req->body_len && !req->body) ||
        req->timeout_ms == 0 || req->timeout_ms > TIMEOUT_MAX_MS ||
        req->connect_timeout_ms > TIMEOUT_MAX_MS)
        return -EINVAL;
    if (h->cfg.max_pending && h->st.in_flight >= h->cfg.max_pending)
        return -ENOBUFS;
    q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->h = h;
    q->cb = cb;
    q->arg = arg;
    q->easy = curl_easy_init();
    if (!q->easy) {
        rc = -ENOMEM;
        goto fail;
    }
    rc = add_headers(q, req);
    if (rc < 0)
        goto fail;
    cto = req->connect_timeout_ms ? req->connect_timeout_ms : req->timeout_ms;
    if (cto > req->timeout_ms)
        cto = req->timeout_ms;
    rc = -EIO;
    /* clang-format off */
    if (curl_easy_setopt(q->easy, CURLOPT_URL, req->url) != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
        /* no signals: curl's timeouts would otherwise use SIGALRM around name resolution */
        curl_easy_setopt(q->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms) != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)cto) != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_MAXFILESIZE_LARGE,
                         (curl_off_t)h->cfg.max_response_bytes) != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->hdrs) != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_WRITEDATA, q) != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_HEADERDATA, q) != CURLE_OK ||
        curl_easy_setopt(q->easy, CURLOPT_PRIVATE, q) != CURLE_OK)
        goto fail;
    /* clang-format on */
    if (strcmp(method, "GET") != 0 || req->body_len) {
        /* POSTFIELDS makes curl send a body (and POST); CUSTOMREQUEST then names the method */
        if (strcmp(method, "HEAD") == 0) {
            if (curl_easy_setopt(q->easy, CURLOPT_NOBODY, 1L) != CURLE_OK)
                goto fail;
        } else if (curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE_LARGE,
                                    (curl_off_t)req->body_len) != CURLE_OK ||
                   curl_easy_setopt(q->easy, CURLOPT_COPYPOSTFIELDS,
                                    req->body_len ? (const char *)req->body : "") != CURLE_OK)
            goto fail;
        if (strcmp(method, "POST") != 0 && strcmp(method, "HEAD") != 0 &&
            curl_easy_setopt(q->easy, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK)
            goto fail;
    }
    q->started_ms = gw_clock_mono_ms();
    if (curl_multi_add_handle(h->multi, q->easy) != CURLM_OK)
        goto fail;
    q->next = h->reqs;
    if (h->reqs)
        h->reqs->prev = q;
    h->reqs = q;
    h->st.in_flight++;
    h->st.requests++;
    return 0;
fail:
    req_free(q);
    return rc;
}

const char *gw_http_response_header(const struct gw_http_response *resp, const char *name)
{
    if (!resp || !name)
        return NULL;
    for (size_t i = 0; i < resp->n_headers; i++) {
        if (strcasecmp(resp->headers[i].name, name) == 0)
            return resp->headers[i].value;
    }
    return NULL;
}

void gw_http_get_stats(const struct gw_http *h, struct gw_http_stats *out)
{
    if (h)
        *out = h->st;
    else
        memset(out, 0, sizeof(*out));
}

void gw_http_free(struct gw_http *h)
{
    if (!h)
        return;
    h->closing = true;
    while (h->reqs) {
        struct gw_http_req *q = h->reqs;

        if (h->multi)
            curl_multi_remove_handle(h->multi, q->easy);
        req_unlink(h, q);
        deliver(h, q, -ECANCELED);
    }
    if (h->multi)
        curl_multi_cleanup(h->multi);
    /* curl normally removes every socket before this point; whatever is left is ours to free */
    while (h->socks)
        sock_free(h, h->socks);
    if (h->timer)
        event_free(h->timer);
    if (h->curl_ref && --curl_users == 0)
        curl_global_cleanup();
    free(h);
}
