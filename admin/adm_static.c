/*
 * adm_static.c - the web console's files (admin/web: HTML, CSS, JS, the language dictionaries),
 * served read-only by loyalty-admin from the directory given with --static, so the console needs
 * no build step and no second server. Owner: the staff-console engineer.
 *
 * Why files from a directory rather than embedded at build time: marketing's translators fix a
 * string in fr.json and reload the page; the directory is part of the install (deploy copies
 * admin/web), and nothing in it is secret (every datum comes through the API with a token).
 *
 * Safety: the URL path is mapped by adm_static_resolve (pure, unit-tested): plain segments only,
 * no "..", no hidden files, no percent-escapes, only known extensions, each with its content type.
 * The file is then opened beneath the directory's descriptor with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS) (kernel >= 5.6; older kernels: openat with O_NOFOLLOW on the last
 * component), must be a regular file, at most ADM_STATIC_MAX bytes. Pages get a CSP that allows
 * only this origin's scripts, styles, images and API calls (no inline script, no eval, no CDN);
 * the API keeps its own "default-src 'none'".
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "adm_priv.h"
#include "gw_core.h"

#define ADM_STATIC_MAX (4 * 1024 * 1024)
#define ADM_STATIC_PATH_MAX 200

static const struct {
    const char *ext;
    const char *ctype;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

/* 'self' only: the pages load app.js/app.css and call /api on this origin. Charts are SVG built
 * with DOM calls (attributes, no inline style), so neither 'unsafe-inline' nor 'unsafe-eval'. */
#define PAGE_CSP                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static bool seg_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

int adm_static_resolve(const char *url_path, char *rel, size_t rellen, const char **ctype)
{
    size_t n, depth = 0;
    const char *name, *dot;

    if (!url_path || url_path[0] != '/' || !rel || rellen == 0)
        return -ENOENT;
    if (strcmp(url_path, "/") == 0)
        url_path = "/index.html";
    n = strlen(url_path);
    if (n > ADM_STATIC_PATH_MAX || n > rellen)
        return -ENOENT;
    /* Segments: non-empty, [A-Za-z0-9._-], not starting with '.' (no "..", no ".git"). */
    for (const char *p = url_path; *p;) {
        if (*p != '/')
            return -ENOENT;
        p++;
        if (*p == '\0' || *p == '.' || *p == '/')
            return -ENOENT;
        while (*p && *p != '/') {
            if (!seg_char(*p))
                return -ENOENT;
            p++;
        }
        if (++depth > ADM_STATIC_DEPTH)
            return -ENOENT;
    }
    name = strrchr(url_path, '/') + 1;
    dot = strrchr(name, '.');
    if (!dot)
        return -ENOENT;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i].ext) == 0) {
            if (ctype)
                *ctype = types[i].ctype;
            snprintf(rel, rellen, "%s", url_path + 1);
            return 0;
        }
    }
    return -ENOENT;
}

bool adm_static_wants(const struct adm_server *s, enum evhttp_cmd_type method, const char *path)
{
    return s->static_fd >= 0 && path && (method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD) &&
           strncmp(path, "/api/", 5) != 0 && strcmp(path, "/api") != 0;
}

int adm_static_open_dir(struct adm_server *s, const char *dir)
{
    s->static_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return s->static_fd < 0 ? -errno : 0;
}

static int open_beneath(int dirfd, const char *rel)
{
    struct open_how how = {
        .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));

    if (fd < 0 && errno == ENOSYS) /* kernel < 5.6: the names are already checked */
        fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    return (int)fd;
}

static void add_headers(struct evhttp_request *req, const char *ctype)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);

    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_add_header(h, "Content-Security-Policy", PAGE_CSP);
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    /* Revalidate every time: a deploy of new pages is seen at the next load. */
    evhttp_add_header(h, "Cache-Control", "no-cache");
}

static void send_status(struct evhttp_request *req, int status, const char *reason)
{
    struct evbuffer *b = evbuffer_new();

    add_headers(req, "text/plain; charset=utf-8");
    if (b)
        evbuffer_add_printf(b, "%d %s\n", status, reason);
    evhttp_send_reply(req, status, reason, b);
    if (b)
        evbuffer_free(b);
}

void adm_static_serve(struct adm_server *s, struct evhttp_request *req, const char *path)
{
    char rel[ADM_STATIC_PATH_MAX + 16];
    const char *ctype = NULL;
    struct stat st;
    struct evbuffer *body;
    int fd;

    if (adm_static_resolve(path, rel, sizeof(rel), &ctype) < 0) {
        send_status(req, 404, "Not Found");
        return;
    }
    fd = open_beneath(s->static_fd, rel);
    if (fd < 0) {
        send_status(req, 404, "Not Found");
        return;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > ADM_STATIC_MAX) {
        close(fd);
        send_status(req, 404, "Not Found");
        return;
    }
    body = evbuffer_new();
    /* Read into memory (files are small, <= ADM_STATIC_MAX) so fd is closed here on every path. */
    size_t got = 0;
    while (body && got < (size_t)st.st_size) {
        int n = evbuffer_read(body, fd, (int)((size_t)st.st_size - got));
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (!body || got != (size_t)st.st_size) {
        if (body)
            evbuffer_free(body);
        send_status(req, 500, "Internal Server Error");
        return;
    }
    add_headers(req, ctype);
    evhttp_send_reply(req, 200, "OK", body);
    evbuffer_free(body);
}
