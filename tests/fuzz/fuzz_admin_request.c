/*
 * fuzz_admin_request.c - libFuzzer target: what loyalty-admin parses of an HTTP request before a
 * handler runs (admin/adm_server.c): the request target (libevent's URI parser, then the route
 * table with its '*' segment), the query string, the bearer token, and the JSON body
 * (adm_body_parse: content type, one object, no duplicate keys), plus the identifier checks
 * handlers apply to body and query fields. Input, as on the wire:
 *   "<METHOD> <target>\n<Content-Type value>\n<Authorization value>\n\n<body>"
 * Property beyond "no crash, no leak": a route's '*' segment is what route_match allows
 * ([A-Za-z0-9._-], non-empty), a parsed body is an object, a refusal is 415 or 400 with a field.
 */
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/queue.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adm_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next line of [*p, end): returned NUL-terminated in a malloc'd copy; *p moves past it. */
static char *take_line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
    char *s = malloc(n + 1);

    if (!s)
        abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end;
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        const char *name;
        enum evhttp_cmd_type m;
    } methods[] = {{"GET", EVHTTP_REQ_GET},       {"POST", EVHTTP_REQ_POST},
                   {"PUT", EVHTTP_REQ_PUT},       {"PATCH", EVHTTP_REQ_PATCH},
                   {"DELETE", EVHTTP_REQ_DELETE}, {"HEAD", EVHTTP_REQ_HEAD}};
    const char *p = (const char *)data, *end = p + size;
    char *line, *ct, *auth, *target;
    enum evhttp_cmd_type method = EVHTTP_REQ_GET;
    struct evhttp_uri *uri;

    if (size > 64 * 1024)
        return 0;
    line = take_line(&p, end);
    ct = take_line(&p, end);
    auth = take_line(&p, end);
    free(take_line(&p, end)); /* the blank line before the body */
    target = strchr(line, ' ');
    if (target) {
        *target++ = '\0';
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
            if (strcmp(line, methods[i].name) == 0)
                method = methods[i].m;
    } else {
        target = line;
    }
    uri = evhttp_uri_parse(target);
    if (uri) {
        const char *path = evhttp_uri_get_path(uri), *q = evhttp_uri_get_query(uri);
        char arg[64];
        bool known = false;
        const struct adm_route *route = adm_route_find(method, path, arg, sizeof(arg), &known);
        struct evkeyvalq query;

        if (route) {
            size_t n = strlen(arg);

            if (!known || (strchr(route->pattern, '*') &&
                           (n == 0 || strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                                                  "TUVWXYZ0123456789._-") != n)))
                abort();
        }
        TAILQ_INIT(&query);
        if (q && evhttp_parse_query_str(q, &query) == 0) {
            const char *before = evhttp_find_header(&query, "before");
            const char *count = evhttp_find_header(&query, "count");

            if (before)
                (void)adm_stream_id_valid(before);
            if (count)
                (void)strtol(count, NULL, 10);
        }
        evhttp_clear_headers(&query);
        evhttp_uri_free(uri);
    }
    if (strncasecmp(auth, "Bearer ", 7) == 0)
        (void)adm_token_valid(auth + 7);
    {
        json_t *body = NULL;
        const char *field = NULL;
        char msg[256];
        int status = adm_body_parse(ct, p, (size_t)(end - p), &body, &field, msg, sizeof(msg));

        if (status == 0) {
            const char *user = json_string_value(json_object_get(body, "user"));

            if (!json_is_object(body))
                abort();
            if (user)
                (void)adm_user_name_valid(user);
        } else if (body || !field || (status != 400 && status != 415)) {
            abort();
        }
        json_decref(body);
    }
    free(line);
    free(ct);
    free(auth);
    return 0;
}
