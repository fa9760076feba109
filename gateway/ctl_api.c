/*
 * ctl_api.c - loyaltyctl's staff operations over loyalty-admin's HTTP API (see ctl_api.h).
 * Owner: the staff-console engineer.
 *
 * libcurl's easy interface: a CLI asks one question at a time and may block; every request still
 * has a deadline (connect 3 s, whole request 30 s). Nothing here decides a rule: arguments are
 * checked only as far as needed to build a safe URL and a well-formed body (digits, ids, JSON);
 * the admin server validates everything and answers with the JSON error this program prints.
 *
 * The session token comes from LOYALTYCTL_TOKEN, else from the file `loyaltyctl login` wrote:
 * $XDG_CONFIG_HOME/loyaltyctl/token or ~/.config/loyaltyctl/token (mode 0600, folder 0700). It is
 * never printed. The API's address: --api URL, else LOYALTYCTL_API, else http://127.0.0.1:8081.
 *
 * Memory: one struct call per request owns its header list and the answer's buffer; everything
 * is released before the command returns.
 */
#include "ctl_api.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define API_DEFAULT "http://127.0.0.1:8081"
#define ANSWER_MAX (64u << 20) /* a CSV audit page is large, but not this large */
#define TOKEN_HEX 64           /* loyalty-admin: 32 random bytes, hex */
#define PASSWORD_MAX 256

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };

static const char *const api_commands[] = {
    "login",    "logout",   "whoami", "subscriber", "adjust",      "block",
    "unblock",  "giftdays", "catalog", "loyalty",   "menus",       "rules",
    "item",     "deadletters", "audit", "sessions", "suggestions", NULL,
};

void ctl_api_usage(FILE *out)
{
    fprintf(out,
            "staff operations, through loyalty-admin's API (--api URL, default $LOYALTYCTL_API "
            "or " API_DEFAULT "):\n"
            "  login USER              password on stdin; the token goes to "
            "~/.config/loyaltyctl/token (0600)\n"
            "  logout | whoami\n"
            "  subscriber MSISDN       balance, lots, history (care, auditor)\n"
            "  adjust MSISDN POINTS --reason TEXT --request-id ID   (+N credit, -N debit)\n"
            "  block MSISDN [--reason TEXT] | unblock MSISDN [--reason TEXT]\n"
            "  giftdays get | put FILE [--version N] | preview [--tier T]\n"
            "  catalog get | put FILE [--version N]\n"
            "  loyalty get | put FILE [--version N]   the loyalty table (the gateways take it)\n"
            "  menus get | put FILE [--version N]     the USSD menus and SMS texts\n"
            "  rules get | put FILE [--version N]     the campaign rules (welcome, tenure, ...)\n"
            "  item ID stock N | limit N | kill | resume   [--version N]\n"
            "  deadletters [--count N] [--before ID] [--csv]\n"
            "  audit [--count N] [--before ID] [--csv]\n"
            "  suggestions [--count N] [--before ID] [--csv]   the suggestion box, newest first\n"
            "                          (numbers masked unless care or auditor)\n"
            "  sessions USER | sessions USER revoke [ID]   a staff member's sessions; revoke one,\n"
            "                          or all of them (admin role)\n"
            "  (put FILE: the document itself; without --version, the version read just before)\n"
            "  exit status: 0 done, 1 refused or failed (the API's JSON error on stderr), "
            "2 usage\n");
}

/* ---------------------------------------------------------------- arguments */

static const struct option long_opts[] = {
    {"api", required_argument, NULL, 'a'},
    {"reason", required_argument, NULL, 'r'},
    {"request-id", required_argument, NULL, 'i'},
    {"version", required_argument, NULL, 'v'},
    {"tier", required_argument, NULL, 't'},
    {"count", required_argument, NULL, 'c'},
    {"before", required_argument, NULL, 'b'},
    {"csv", no_argument, NULL, 'C'},
    /* loyaltyctl's Redis options: accepted (and unused) so one command line fits all commands */
    {"socket", required_argument, NULL, 's'},
    {"host", required_argument, NULL, 'H'},
    {"port", required_argument, NULL, 'p'},
    {"config", required_argument, NULL, 'K'},
    {"user", required_argument, NULL, 'U'},
    {"password-file", required_argument, NULL, 'W'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static bool takes_value(const char *arg)
{
    if (strncmp(arg, "--", 2) == 0) {
        if (strchr(arg, '='))
            return false;
        for (const struct option *o = long_opts; o->name; o++)
            if (strcmp(arg + 2, o->name) == 0)
                return o->has_arg == required_argument;
        return false;
    }
    /* short forms of the Redis options (ctl.c: -s -H -p) */
    return arg[0] == '-' && strchr("sHp", arg[1]) && arg[1] && arg[2] == '\0';
}

bool ctl_api_is_command(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            continue; /* the next word is the command */
        if (argv[i][0] == '-' && (i == 1 || strcmp(argv[i - 1], "--") != 0)) {
            if (takes_value(argv[i]))
                i++;
            continue;
        }
        for (const char *const *c = api_commands; *c; c++)
            if (strcmp(argv[i], *c) == 0)
                return true;
        return false;
    }
    return false;
}

struct opts {
    const char *api, *reason, *request_id, *tier, *before;
    long long version; /* -1: not given */
    long count;        /* 0: not given */
    bool csv;
};

static bool all_of(const char *s, const char *set, size_t min, size_t max)
{
    size_t n = strlen(s);
    return n >= min && n <= max && strspn(s, set) == n;
}

#define DIGITS "0123456789"
#define ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"

static bool parse_ll(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* ---------------------------------------------------------------- token */

static int token_path(char *out, size_t cap, bool mkdirs)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    char dir[512];
    int n;

    if (xdg && xdg[0] == '/')
        n = snprintf(dir, sizeof(dir), "%s/loyaltyctl", xdg);
    else if (home && home[0] == '/')
        n = snprintf(dir, sizeof(dir), "%s/.config/loyaltyctl", home);
    else
        return -ENOENT;
    if (n < 0 || (size_t)n >= sizeof(dir))
        return -ENAMETOOLONG;
    if (mkdirs) {
        /* the parent (~/.config) may not exist yet; the token's own folder is private */
        char parent[512];
        snprintf(parent, sizeof(parent), "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = '\0';
            if (mkdir(parent, 0700) < 0 && errno != EEXIST)
                return -errno;
        }
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return -errno;
    }
    n = snprintf(out, cap, "%s/token", dir);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static bool token_valid(const char *t)
{
    return all_of(t, "0123456789abcdef", TOKEN_HEX, TOKEN_HEX);
}

/* The token into out (TOKEN_HEX + 1 bytes). 0, or -ENOENT (none) / -EINVAL (not a token). */
static int token_read(char *out)
{
    const char *env = getenv("LOYALTYCTL_TOKEN");
    char path[600], buf[TOKEN_HEX + 2];
    ssize_t n;
    int fd;

    if (env && env[0]) {
        if (!token_valid(env))
            return -EINVAL;
        memcpy(out, env, TOKEN_HEX + 1);
        return 0;
    }
    if (token_path(path, sizeof(path), false) < 0)
        return -ENOENT;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -ENOENT;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < TOKEN_HEX)
        return -EINVAL;
    buf[n] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (!token_valid(buf))
        return -EINVAL;
    memcpy(out, buf, TOKEN_HEX + 1);
    return 0;
}

static int token_write(const char *token)
{
    char path[600], tmp[620];
    int fd, rc;

    if ((rc = token_path(path, sizeof(path), true)) < 0)
        return rc;
    /* write then rename: a reader never sees half a token; 0600 from the first byte */
    snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    size_t len = strlen(token);
    rc = fchmod(fd, 0600) == 0 && write(fd, token, len) == (ssize_t)len && write(fd, "\n", 1) == 1
             ? 0
             : -EIO;
    if (close(fd) < 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -errno;
    if (rc < 0)
        unlink(tmp);
    return rc;
}

/* ---------------------------------------------------------------- HTTP */

struct answer {
    char *buf;
    size_t len;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    size_t k = size * n;

    if (a->len + k > ANSWER_MAX) {
        a->too_big = true;
        return 0; /* curl stops the transfer */
    }
    char *nb = realloc(a->buf, a->len + k + 1);
    if (!nb)
        return 0;
    memcpy(nb + a->len, p, k);
    a->len += k;
    nb[a->len] = '\0';
    a->buf = nb;
    return k;
}

/*
 * One request. path is already escaped; body (may be NULL) is JSON text; token may be NULL.
 * On success *status is the HTTP status and *out the answer (owned by the caller, NUL-ended,
 * never NULL). Returns 0 or -EIO (the transport failed: message printed).
 */
static int http(const struct opts *o, const char *method, const char *path, const char *body,
                const char *token, long *status, char **out)
{
    struct answer a = {0};
    struct curl_slist *hdr = NULL;
    char url[2048], auth[TOKEN_HEX + 32];
    CURL *c;
    CURLcode cc;
    int rc = -EIO;

    *out = NULL;
    size_t base_len = strlen(o->api);
    while (base_len > 0 && o->api[base_len - 1] == '/')
        base_len--;
    int n = snprintf(url, sizeof(url), "%.*s%s", (int)base_len, o->api, path);
    if (n < 0 || (size_t)n >= sizeof(url)) {
        fprintf(stderr, "loyaltyctl: URL too long\n");
        return -EIO;
    }
    if (!(c = curl_easy_init())) {
        fprintf(stderr, "loyaltyctl: out of memory\n");
        return -EIO;
    }
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, auth);
    }
    if (body)
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Accept: application/json, text/csv");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        fprintf(stderr, "loyaltyctl: %s %s: %s\n", method, url,
                a.too_big ? "answer too large" : curl_easy_strerror(cc));
        goto done;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    *out = a.buf ? a.buf : strdup("");
    a.buf = NULL;
    rc = *out ? 0 : -EIO;
done:
    free(a.buf);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return rc;
}

/* Prints a 2xx answer (JSON pretty, anything else as is) on stdout, or the API's error on
 * stderr. Returns the exit code. */
static int report(long status, const char *answer)
{
    json_t *j = json_loads(answer, JSON_DECODE_ANY, NULL);
    FILE *out = status >= 200 && status < 300 ? stdout : stderr;

    if (j) {
        char *s = json_dumps(j, (out == stdout ? JSON_INDENT(2) : JSON_COMPACT) |
                                    JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
        fprintf(out, "%s\n", s ? s : answer);
        free(s);
        json_decref(j);
    } else if (answer[0])
        fprintf(out, "%s%s", answer, answer[strlen(answer) - 1] == '\n' ? "" : "\n");
    if (out == stdout)
        return EXIT_OK;
    fprintf(stderr, "loyaltyctl: refused (HTTP %ld)\n", status);
    return EXIT_REFUSED;
}

/* A request with the stored token, reported. body: a JSON value (stolen, may be NULL). */
static int call(const struct opts *o, const char *method, const char *path, json_t *body)
{
    char token[TOKEN_HEX + 1], *text = NULL, *answer = NULL;
    long status = 0;
    int rc;

    rc = token_read(token);
    if (rc < 0) {
        json_decref(body);
        fprintf(stderr, "loyaltyctl: %s: run `loyaltyctl login USER` or set LOYALTYCTL_TOKEN\n",
                rc == -EINVAL ? "the stored token is not a session token" : "not logged in");
        return EXIT_REFUSED;
    }
    if (body) {
        text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(body);
        if (!text) {
            fprintf(stderr, "loyaltyctl: out of memory\n");
            return EXIT_REFUSED;
        }
    }
    rc = http(o, method, path, text, token, &status, &answer) < 0 ? EXIT_REFUSED
                                                                  : report(status, answer);
    free(text);
    free(answer);
    return rc;
}

/* ---------------------------------------------------------------- commands */

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "loyaltyctl: ");
    fprintf(stderr, fmt, arg ? arg : "");
    fprintf(stderr, "\n(loyaltyctl --help lists the commands)\n");
    return EXIT_USAGE;
}

/* Reads the password: one line from stdin, without echo on a terminal. */
static int read_password(char *out, size_t cap)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;

    if (tty) {
        fprintf(stderr, "password: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(out, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fprintf(stderr, "\n");
    }
    if (!got)
        return -EINVAL;
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static int cmd_login(const struct opts *o, const char *user)
{
    char password[PASSWORD_MAX + 2], *text, *answer = NULL;
    long status = 0;
    int rc;

    if (read_password(password, sizeof(password)) < 0)
        return usage_error("login: give the password on stdin%s", NULL);
    json_t *body = json_pack("{s:s, s:s}", "user", user, "password", password);
    explicit_bzero(password, sizeof(password));
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text)
        return EXIT_REFUSED;
    rc = http(o, "POST", "/api/login", text, NULL, &status, &answer);
    explicit_bzero(text, strlen(text));
    free(text);
    if (rc < 0)
        return EXIT_REFUSED;
    if (status != 200) {
        rc = report(status, answer);
        free(answer);
        return rc;
    }
    json_t *j = json_loads(answer, 0, NULL);
    const char *token = json_string_value(json_object_get(j, "token"));
    rc = EXIT_REFUSED;
    if (!token || !token_valid(token))
        fprintf(stderr, "loyaltyctl: the API answered without a session token\n");
    else if ((rc = token_write(token)) < 0) {
        fprintf(stderr, "loyaltyctl: cannot store the token: %s\n", strerror(-rc));
        rc = EXIT_REFUSED;
    } else {
        /* the token itself is a secret: not printed */
        const char *who = json_string_value(json_object_get(j, "user"));
        const char *role = json_string_value(json_object_get(j, "role"));
        printf("logged in as %s (%s) for %lld s\n", who ? who : user, role ? role : "?",
               (long long)json_integer_value(json_object_get(j, "expires_in")));
        rc = EXIT_OK;
    }
    if (answer)
        explicit_bzero(answer, strlen(answer));
    json_decref(j);
    free(answer);
    return rc;
}

static int cmd_logout(const struct opts *o)
{
    char path[600];
    int rc = call(o, "POST", "/api/logout", json_object());

    if (!getenv("LOYALTYCTL_TOKEN") && token_path(path, sizeof(path), false) == 0)
        unlink(path);
    return rc;
}

static bool msisdn_ok(const char *m)
{
    return all_of(m, DIGITS, 8, 15);
}

static int cmd_subscriber(const struct opts *o, int argc, char **argv, const char *cmd)
{
    char path[128];

    if (argc < 1 || !msisdn_ok(argv[0]))
        return usage_error("%s: give an MSISDN (8-15 digits)", cmd);
    if (strcmp(cmd, "subscriber") == 0) {
        if (argc != 1)
            return usage_error("subscriber MSISDN%s", NULL);
        snprintf(path, sizeof(path), "/api/subscribers/%s%s", argv[0], o->csv ? "?format=csv" : "");
        return call(o, "GET", path, NULL);
    }
    if (strcmp(cmd, "adjust") == 0) {
        long long pts;
        if (argc != 2 || !parse_ll(argv[1], -1000000000LL, 1000000000LL, &pts))
            return usage_error("adjust MSISDN POINTS --reason TEXT --request-id ID%s", NULL);
        if (!o->reason || !o->reason[0])
            return usage_error("adjust: --reason is mandatory%s", NULL);
        if (!o->request_id || !o->request_id[0])
            return usage_error("adjust: --request-id is mandatory (reuse it when you retry)%s",
                               NULL);
        snprintf(path, sizeof(path), "/api/subscribers/%s/adjust", argv[0]);
        return call(o, "POST", path,
                    json_pack("{s:I, s:s, s:s}", "points", (json_int_t)pts, "reason", o->reason,
                              "request_id", o->request_id));
    }
    /* block / unblock */
    if (argc != 1)
        return usage_error("%s MSISDN [--reason TEXT]", cmd);
    snprintf(path, sizeof(path), "/api/subscribers/%s/%s", argv[0], cmd);
    json_t *body = json_object();
    if (o->reason)
        json_object_set_new(body, "reason", json_string(o->reason));
    return call(o, "POST", path, body);
}

/* "put FILE": the document from FILE, under --version or the version stored right now. */
static int put_document(const struct opts *o, const char *path, const char *file)
{
    json_error_t je;
    json_t *doc = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    long long version = o->version;

    if (!doc) {
        fprintf(stderr, "loyaltyctl: %s:%d:%d: %s\n", file, je.line, je.column, je.text);
        return EXIT_USAGE;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return usage_error("%s: the document must be a JSON object", file);
    }
    if (version < 0) {
        char token[TOKEN_HEX + 1], *answer = NULL;
        long status = 0;
        if (token_read(token) < 0) {
            json_decref(doc);
            return call(o, "GET", path, NULL); /* says "not logged in" */
        }
        if (http(o, "GET", path, NULL, token, &status, &answer) < 0) {
            json_decref(doc);
            return EXIT_REFUSED;
        }
        if (status != 200) {
            json_decref(doc);
            int rc = report(status, answer);
            free(answer);
            return rc;
        }
        json_t *cur = json_loads(answer, 0, NULL);
        version = json_integer_value(json_object_get(cur, "version"));
        json_decref(cur);
        free(answer);
    }
    return call(o, "PUT", path,
                json_pack("{s:I, s:o}", "version", (json_int_t)version, "document", doc));
}

static int cmd_document(const struct opts *o, int argc, char **argv, const char *cmd)
{
    /* every stored document (issue 12 section 1): the files only seed an empty store, or are
     * put here explicitly */
    const char *path = strcmp(cmd, "giftdays") == 0  ? "/api/giftdays"
                       : strcmp(cmd, "loyalty") == 0 ? "/api/loyalty"
                       : strcmp(cmd, "menus") == 0   ? "/api/menus"
                       : strcmp(cmd, "rules") == 0   ? "/api/campaign-rules"
                                                     : "/api/catalog";

    if (argc == 1 && strcmp(argv[0], "get") == 0)
        return call(o, "GET", path, NULL);
    if (argc == 2 && strcmp(argv[0], "put") == 0)
        return put_document(o, path, argv[1]);
    if (argc == 1 && strcmp(argv[0], "preview") == 0 && strcmp(cmd, "giftdays") == 0) {
        char p[128];
        if (o->tier && !all_of(o->tier, ID_CHARS, 1, 31))
            return usage_error("--tier: a tier name%s", NULL);
        snprintf(p, sizeof(p), "/api/giftdays/preview%s%s", o->tier ? "?tier=" : "",
                 o->tier ? o->tier : "");
        return call(o, "GET", p, NULL);
    }
    return usage_error("%s get | put FILE [--version N]%s", cmd);
}

static int cmd_item(const struct opts *o, int argc, char **argv)
{
    char path[128];
    long long n;
    json_t *body;

    if (argc < 2 || !all_of(argv[0], ID_CHARS, 1, 31))
        return usage_error("item ID stock N | limit N | kill | resume%s", NULL);
    const char *what = argv[1];
    if ((strcmp(what, "stock") == 0 || strcmp(what, "limit") == 0) && argc == 3) {
        if (!parse_ll(argv[2], 0, INT64_MAX / 2, &n))
            return usage_error("item: %s needs a number (0 = unlimited)", what);
        body =
            json_pack("{s:I}", what[0] == 's' ? "stock_per_day" : "limit_per_day", (json_int_t)n);
    } else if ((strcmp(what, "kill") == 0 || strcmp(what, "resume") == 0) && argc == 2)
        body = json_pack("{s:b}", "kill", what[0] == 'k');
    else
        return usage_error("item ID stock N | limit N | kill | resume%s", NULL);
    if (o->version >= 0)
        json_object_set_new(body, "version", json_integer(o->version));
    snprintf(path, sizeof(path), "/api/catalog/items/%s", argv[0]);
    return call(o, "PATCH", path, body);
}

#define STAFF_CHARS "abcdefghijklmnopqrstuvwxyz0123456789._-"

/* sessions USER: GET /api/users/USER/sessions; revoke [ID]: one session, or all (admin role). */
static int cmd_sessions(const struct opts *o, int argc, char **argv)
{
    char path[160];

    if (argc < 1 || argc > 3 || !all_of(argv[0], STAFF_CHARS, 1, 32) ||
        (argc >= 2 && strcmp(argv[1], "revoke") != 0) ||
        (argc == 3 && !all_of(argv[2], "0123456789abcdef", 64, 64)))
        return usage_error("sessions USER | sessions USER revoke [ID (64 hex)]%s", NULL);
    if (argc == 1) {
        snprintf(path, sizeof(path), "/api/users/%s/sessions", argv[0]);
        return call(o, "GET", path, NULL);
    }
    if (argc == 2)
        snprintf(path, sizeof(path), "/api/users/%s/sessions/revoke", argv[0]);
    else
        snprintf(path, sizeof(path), "/api/sessions/%s/revoke", argv[2]);
    return call(o, "POST", path, json_object());
}

static int cmd_list(const struct opts *o, int argc, const char *cmd)
{
    char path[160], count[32] = "";

    if (argc != 0)
        return usage_error("%s [--count N] [--before ID] [--csv]", cmd);
    if (o->before && !all_of(o->before, DIGITS "-", 1, 41))
        return usage_error("--before: a stream id (from \"next\")%s", NULL);
    if (o->count)
        snprintf(count, sizeof(count), "count=%ld", o->count);
    /* every part is digits, '-' or a fixed word: nothing to escape */
    snprintf(path, sizeof(path), "/api/%s?%s%s%s%s%s", cmd, count, o->count && o->before ? "&" : "",
             o->before ? "before=" : "", o->before ? o->before : "",
             o->csv ? (o->count || o->before ? "&format=csv" : "format=csv") : "");
    return call(o, "GET", path, NULL);
}

int ctl_api_main(int argc, char **argv)
{
    struct opts o = {.api = getenv("LOYALTYCTL_API"), .version = -1};
    long long v;
    int c, rc;

    if (!o.api || !o.api[0])
        o.api = API_DEFAULT;
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:H:p:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            o.api = optarg;
            break;
        case 'r':
            o.reason = optarg;
            break;
        case 'i':
            o.request_id = optarg;
            break;
        case 'v':
            if (!parse_ll(optarg, 0, INT64_MAX / 2, &o.version))
                return usage_error("--version: the version you started from (a number)%s", NULL);
            break;
        case 't':
            o.tier = optarg;
            break;
        case 'c':
            if (!parse_ll(optarg, 1, 100000, &v))
                return usage_error("--count: 1 to 100000%s", NULL);
            o.count = (long)v;
            break;
        case 'b':
            o.before = optarg;
            break;
        case 'C':
            o.csv = true;
            break;
        case 's':
        case 'H':
        case 'p':
        case 'K':
        case 'U':
        case 'W':
            break; /* Redis options: not used by API commands */
        case 'h':
            ctl_api_usage(stdout);
            return EXIT_OK;
        default:
            return usage_error("unknown option%s", NULL);
        }
    }
    if (strncmp(o.api, "http://", 7) != 0 && strncmp(o.api, "https://", 8) != 0)
        return usage_error("--api: an http:// or https:// URL, not \"%s\"", o.api);
    if (optind >= argc)
        return usage_error("no command%s", NULL);
    const char *cmd = argv[optind];
    int n = argc - optind - 1;
    char **args = argv + optind + 1;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "loyaltyctl: libcurl failed to start\n");
        return EXIT_REFUSED;
    }
    if (strcmp(cmd, "login") == 0)
        rc = n == 1 && all_of(args[0], STAFF_CHARS, 1, 32)
                 ? cmd_login(&o, args[0])
                 : usage_error("login USER (password on stdin)%s", NULL);
    else if (strcmp(cmd, "logout") == 0)
        rc = n == 0 ? cmd_logout(&o) : usage_error("logout takes no argument%s", NULL);
    else if (strcmp(cmd, "whoami") == 0)
        rc = n == 0 ? call(&o, "GET", "/api/me", NULL)
                    : usage_error("whoami takes no argument%s", NULL);
    else if (strcmp(cmd, "subscriber") == 0 || strcmp(cmd, "adjust") == 0 ||
             strcmp(cmd, "block") == 0 || strcmp(cmd, "unblock") == 0)
        rc = cmd_subscriber(&o, n, args, cmd);
    else if (strcmp(cmd, "giftdays") == 0 || strcmp(cmd, "catalog") == 0 ||
             strcmp(cmd, "loyalty") == 0 || strcmp(cmd, "menus") == 0 ||
             strcmp(cmd, "rules") == 0)
        rc = cmd_document(&o, n, args, cmd);
    else if (strcmp(cmd, "item") == 0)
        rc = cmd_item(&o, n, args);
    else if (strcmp(cmd, "deadletters") == 0 || strcmp(cmd, "audit") == 0 ||
             strcmp(cmd, "suggestions") == 0)
        rc = cmd_list(&o, n, cmd);
    else if (strcmp(cmd, "sessions") == 0)
        rc = cmd_sessions(&o, n, args);
    else
        rc = usage_error("unknown command \"%s\"", cmd);
    curl_global_cleanup();
    return rc;
}
