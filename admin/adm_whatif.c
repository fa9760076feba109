/*
 * adm_whatif.c - the console's what-if (issue 12 section 2): POST /api/whatif checks a draft
 * loyalty table, a draft catalogue (prices: the journaled redemptions at its prices) and/or a
 * draft campaigns document (the bonuses, replayed by campaign.lua in the worker) like a PUT would, reads the table in force (cfg:{adm}:loyalty; none stored = the
 * gateway configuration's), writes both into a private job folder and starts `loyaltyctl whatif`
 * there as a worker process (posix_spawn; niced by loyaltyctl itself). The replay never runs on
 * this loop or the gateway's. GET /api/whatif/{id} reads the worker's progress file and, once it
 * exited, its JSON result, and reaps it (waitpid WNOHANG: no SIGCHLD handler).
 *
 * Jobs live in this process only (a restart forgets them; a worker still running finishes on its
 * own): at most ADM_WHATIF_JOBS, one running at a time (a 1M-event replay takes a core for
 * seconds). MSISDNs in the result are masked to their last 4 digits (marketing sees no subscriber
 * identity). Owner of the job table: struct adm_server (adm_whatif_free).
 */
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "adm_priv.h"
#include "gw_core.h"

#define ADM_WHATIF_JOBS 4
#define DAYS_MAX 400

extern char **environ;

struct adm_whatif_job {
    char id[17];       /* 16 hex digits, "" = free slot */
    pid_t pid;         /* 0 once reaped */
    char dir[64];      /* the job's private folder */
    char user[ADM_USER_MAX + 1];
    int64_t started_ms;
    int days;
    json_t *result;    /* once done */
    char error[256];   /* once failed */
};

struct adm_whatif {
    struct adm_whatif_job jobs[ADM_WHATIF_JOBS];
};

static void job_clear(struct adm_whatif_job *j)
{
    static const char *const files[] = {"draft.json",   "table.json",  "catalog.json",
                                        "campaigns.json", "progress", "progress.tmp",
                                        "result.json",  "err.txt"};
    char path[128];

    if (j->pid > 0) {
        kill(j->pid, SIGTERM); /* our own child, by its id */
        waitpid(j->pid, NULL, 0);
    }
    if (j->dir[0]) {
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", j->dir, files[i]);
            unlink(path);
        }
        rmdir(j->dir);
    }
    json_decref(j->result);
    memset(j, 0, sizeof(*j));
}

void adm_whatif_free(struct adm_server *s)
{
    if (!s || !s->whatif)
        return;
    for (int i = 0; i < ADM_WHATIF_JOBS; i++) {
        if (s->whatif->jobs[i].id[0])
            job_clear(&s->whatif->jobs[i]);
    }
    free(s->whatif);
    s->whatif = NULL;
}

static int write_file(const char *dir, const char *name, const char *text)
{
    char path[128];
    int fd, rc = 0;
    size_t len = strlen(text);

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    if (write(fd, text, len) != (ssize_t)len)
        rc = -EIO;
    close(fd);
    return rc;
}

/* Reads the worker's state: reaps it when it exited, then keeps its result or its error. */
static void job_poll(struct adm_whatif_job *j)
{
    int st;
    char path[128];

    if (j->pid <= 0 || waitpid(j->pid, &st, WNOHANG) != j->pid)
        return;
    j->pid = 0;
    snprintf(path, sizeof(path), "%s/result.json", j->dir);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        j->result = json_load_file(path, 0, NULL);
        if (j->result)
            return;
    }
    snprintf(path, sizeof(path), "%s/err.txt", j->dir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(j->error, sizeof(j->error), f))
        snprintf(j->error, sizeof(j->error), "the worker failed (status %d)", st);
    j->error[strcspn(j->error, "\n")] = '\0';
    if (f)
        fclose(f);
}

/* A slot for a new job: a free one, else the oldest finished one; NULL when one is running. */
static struct adm_whatif_job *job_slot(struct adm_whatif *w)
{
    struct adm_whatif_job *free_slot = NULL, *oldest = NULL;

    for (int i = 0; i < ADM_WHATIF_JOBS; i++) {
        struct adm_whatif_job *j = &w->jobs[i];
        if (!j->id[0]) {
            free_slot = free_slot ? free_slot : j;
            continue;
        }
        job_poll(j);
        if (j->pid > 0)
            return NULL;
        if (!oldest || j->started_ms < oldest->started_ms)
            oldest = j;
    }
    if (free_slot)
        return free_slot;
    job_clear(oldest);
    return oldest;
}

static int job_spawn(struct adm_server *s, struct adm_whatif_job *j, bool have_table,
                     bool have_draft, bool have_catalog, bool have_campaigns)
{
    const struct adm_config *c = &s->cfg;
    char draft[96], table[96], catalog[96], camps[96], progress[96], result[96], err[96];
    char days[16], pv[32];
    const char *argv[26];
    int n = 0, rc;
    posix_spawn_file_actions_t fa;

    snprintf(draft, sizeof(draft), "%s/draft.json", j->dir);
    snprintf(table, sizeof(table), "%s/table.json", j->dir);
    snprintf(catalog, sizeof(catalog), "%s/catalog.json", j->dir);
    snprintf(camps, sizeof(camps), "%s/campaigns.json", j->dir);
    snprintf(progress, sizeof(progress), "%s/progress", j->dir);
    snprintf(result, sizeof(result), "%s/result.json", j->dir);
    snprintf(err, sizeof(err), "%s/err.txt", j->dir);
    snprintf(days, sizeof(days), "%d", j->days);
    snprintf(pv, sizeof(pv), "%" PRIu32 ".%06" PRIu32, c->point_value_micro / 1000000,
             c->point_value_micro % 1000000);
    argv[n++] = c->whatif_ctl;
    argv[n++] = "whatif";
    argv[n++] = "--config";
    argv[n++] = c->gw_config_path;
    if (have_draft) {
        argv[n++] = "--draft";
        argv[n++] = draft;
    }
    if (have_catalog) {
        argv[n++] = "--draft-catalog";
        argv[n++] = catalog;
    }
    if (have_campaigns) {
        /* the campaigns in force: the worker reads the stored document itself */
        argv[n++] = "--draft-campaigns";
        argv[n++] = camps;
    }
    if (have_table) {
        argv[n++] = "--table";
        argv[n++] = table;
    }
    argv[n++] = "--days";
    argv[n++] = days;
    argv[n++] = "--point-value";
    argv[n++] = pv;
    argv[n++] = "--json";
    argv[n++] = "--progress-file";
    argv[n++] = progress;
    argv[n] = NULL;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -ENOMEM;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, result, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    rc = posix_spawnp(&j->pid, c->whatif_ctl, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        j->pid = 0;
        return -rc;
    }
    return 0;
}

/* The table in force read: start the worker. r->text = the draft table (NULL: none), r->j1 =
 * the draft catalogue, r->j2 = the draft campaigns (NULL: none), r->n1 = days. */
static void start_with_table(struct adm_req *r, const struct redisReply *reply)
{
    struct adm_server *s = r->srv;
    struct adm_whatif_job *j;
    const char *table = reply->type == REDIS_REPLY_STRING ? reply->str : NULL;
    uint8_t rnd[8];

    if (!s->whatif && !(s->whatif = calloc(1, sizeof(*s->whatif)))) {
        adm_reply_error(r, 500, NULL, "out of memory");
        return;
    }
    j = job_slot(s->whatif);
    if (!j) {
        adm_reply_error(r, 409, NULL, "a what-if is already running: wait for its result");
        return;
    }
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        adm_reply_error(r, 500, NULL, "no randomness");
        return;
    }
    for (int i = 0; i < 8; i++)
        snprintf(j->id + 2 * i, 3, "%02x", rnd[i]);
    snprintf(j->dir, sizeof(j->dir), "/tmp/loyalty-admin-whatif.%s", j->id);
    snprintf(j->user, sizeof(j->user), "%s", r->user);
    j->days = (int)r->n1;
    j->started_ms = adm_now_ms();
    char *cat = r->j1 ? json_dumps(r->j1, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    char *camps = r->j2 ? json_dumps(r->j2, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    int rc = mkdir(j->dir, 0700) < 0 || (r->text && write_file(j->dir, "draft.json", r->text) < 0) ||
             (cat && write_file(j->dir, "catalog.json", cat) < 0) || (r->j1 && !cat) ||
             (camps && write_file(j->dir, "campaigns.json", camps) < 0) || (r->j2 && !camps) ||
             (table && write_file(j->dir, "table.json", table) < 0) ||
             job_spawn(s, j, table != NULL, r->text != NULL, r->j1 != NULL, r->j2 != NULL) < 0;
    free(cat);
    free(camps);
    if (rc) {
        GW_LOGE(ADM_LOG, "whatif: cannot start %s: %s", s->cfg.whatif_ctl, strerror(errno));
        job_clear(j);
        adm_reply_error(r, 503, NULL, "the what-if worker could not be started");
        return;
    }
    GW_LOGI(ADM_LOG, "whatif{%s} started by %s over %d days (pid %d)", j->id, r->user, j->days,
            (int)j->pid);
    adm_reply_json(r, 202, json_pack("{sssi}", "id", j->id, "days", j->days));
}

void adm_h_whatif_start(struct adm_req *r)
{
    static const char *const keys[] = {"document", "catalog", "campaigns", "days", NULL};
    json_t *doc, *days, *cat, *camps;
    char err[256];
    int rc;

    if (!r->srv->cfg.gw_config_path[0]) {
        adm_reply_error(r, 503, NULL, "loyalty-admin runs without --config: no journal to replay");
        return;
    }
    if (!r->body) {
        adm_reply_error(r, 400, "body",
                        "send {\"document\": {...}, \"catalog\": {...}, \"days\": N}");
        return;
    }
    if (!adm_body_keys_ok(r, keys))
        return;
    doc = json_object_get(r->body, "document");
    cat = json_object_get(r->body, "catalog");
    camps = json_object_get(r->body, "campaigns");
    days = json_object_get(r->body, "days");
    if ((doc && !json_is_object(doc)) || (!doc && !cat && !camps)) {
        adm_reply_error(r, 400, "document", "document must be the draft loyalty table (object)");
        return;
    }
    if (cat && !json_is_object(cat)) {
        adm_reply_error(r, 400, "catalog", "catalog must be the draft catalogue (object)");
        return;
    }
    if (days && (!json_is_integer(days) || json_integer_value(days) < 1 ||
                 json_integer_value(days) > DAYS_MAX)) {
        adm_reply_error(r, 400, "days", "days: 1 to %d", DAYS_MAX);
        return;
    }
    r->n1 = days ? json_integer_value(days) : 7;
    if (doc) {
        r->text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!r->text) {
            adm_reply_error(r, 500, NULL, "out of memory");
            return;
        }
        /* the same check as PUT /api/loyalty: a draft the gateways would refuse is refused */
        rc = adm_doc_check(r->srv, ADM_DOC_LOYALTY, r->text, strlen(r->text), err, sizeof(err));
        if (rc < 0) {
            adm_reply_error(r, rc == -ENOMEM ? 500 : 422, rc == -ENOMEM ? NULL : "document",
                            "%s", err);
            return;
        }
    }
    if (cat) {
        /* and the same as PUT /api/catalog for a draft catalogue (the tiers every reader uses) */
        char *text = json_dumps(cat, JSON_COMPACT | JSON_PRESERVE_ORDER);
        rc = text ? adm_doc_check(r->srv, ADM_DOC_CATALOG, text, strlen(text), err, sizeof(err))
                  : -ENOMEM;
        free(text);
        if (rc < 0) {
            adm_reply_error(r, rc == -ENOMEM ? 500 : 422, rc == -ENOMEM ? NULL : "catalog", "%s",
                            rc == -ENOMEM ? "out of memory" : err);
            return;
        }
        r->j1 = json_incref(cat);
    }
    if (camps) {
        /* and the same as PUT /api/campaign-rules for draft campaigns */
        char *text = json_is_object(camps) ? json_dumps(camps, JSON_COMPACT) : NULL;
        rc = !json_is_object(camps) ? -EINVAL
             : text ? adm_doc_check(r->srv, ADM_DOC_CAMPAIGNS, text, strlen(text), err, sizeof(err))
                    : -ENOMEM;
        if (!json_is_object(camps))
            snprintf(err, sizeof(err), "campaigns must be the draft campaigns document (object)");
        free(text);
        if (rc < 0) {
            adm_reply_error(r, rc == -ENOMEM ? 500 : 422, rc == -ENOMEM ? NULL : "campaigns",
                            "%s", rc == -ENOMEM ? "out of memory" : err);
            return;
        }
        r->j2 = json_incref(camps);
    }
    const char *argv[] = {"HGET", ADM_KEY_LOYALTY, "doc"};
    adm_redis(r, start_with_table, 3, argv);
}

/* Masks every MSISDN of a list of changes (last 4 digits kept). */
static void mask_changes(json_t *top)
{
    json_t *e;
    size_t i;

    json_array_foreach(top, i, e) {
        const char *m = json_string_value(json_object_get(e, "msisdn"));
        char buf[32];
        if (!m)
            continue;
        snprintf(buf, sizeof(buf), "%s", m);
        adm_mask_numbers(buf);
        json_object_set_new(e, "msisdn", json_string(buf));
    }
}

/* The result with every MSISDN of its top changes masked: the table's, the campaigns' and the
 * catalogue's. */
static json_t *masked_result(const json_t *res)
{
    json_t *copy = json_deep_copy(res);

    mask_changes(json_object_get(copy, "top_changes"));
    mask_changes(json_object_get(json_object_get(copy, "campaigns"), "top_changes"));
    mask_changes(json_object_get(json_object_get(copy, "catalog"), "top_changes"));
    return copy;
}

void adm_h_whatif_get(struct adm_req *r)
{
    struct adm_whatif *w = r->srv->whatif;
    struct adm_whatif_job *j = NULL;

    for (int i = 0; w && i < ADM_WHATIF_JOBS; i++) {
        if (w->jobs[i].id[0] && strcmp(w->jobs[i].id, r->arg) == 0)
            j = &w->jobs[i];
    }
    if (!j) {
        adm_reply_error(r, 404, NULL, "no such what-if (they are kept until 4 newer ones)");
        return;
    }
    job_poll(j);
    json_t *o = json_pack("{sssssisI}", "id", j->id, "by", j->user, "days", j->days,
                          "started_ms", (json_int_t)j->started_ms);
    if (j->pid > 0) {
        char path[128];
        int pct = 0;
        snprintf(path, sizeof(path), "%s/progress", j->dir);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%d", &pct) != 1 || pct < 0 || pct > 100)
                pct = 0;
            fclose(f);
        }
        json_object_set_new(o, "state", json_string("running"));
        json_object_set_new(o, "progress", json_integer(pct));
    } else if (j->result) {
        json_object_set_new(o, "state", json_string("done"));
        json_object_set_new(o, "progress", json_integer(100));
        json_object_set_new(o, "result", masked_result(j->result));
    } else {
        json_object_set_new(o, "state", json_string("failed"));
        json_object_set_new(o, "error", json_string(j->error));
    }
    adm_reply_json(r, 200, o);
}
