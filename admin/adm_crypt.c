/*
 * adm_crypt.c - the login's yescrypt run off the event loop. One yescrypt verification costs
 * tens of milliseconds of CPU on an idle machine and seconds on a saturated one; run on the loop
 * it froze every other request of the console (and let their Redis deadlines fire: a login burst
 * answered 503 to people who were only reading the board). One worker thread takes the jobs in
 * order; its answers come back to the loop through an eventfd, and the callback runs there.
 *
 * Ownership: a job copies the password and the hash (the password is wiped when done); the
 * request it answers stays owned by the caller's step chain, as with adm_redis: the callback runs
 * exactly once per accepted job - with 1 (match) / 0 (no match) from the loop, or with
 * -ECANCELED from adm_crypt_free for a job never run or never delivered. One thread is right for
 * a 2-core machine whose other core serves the gateway; the queue is bounded (ADM_CRYPT_QUEUE_MAX)
 * so a flood is refused at once (-EBUSY) instead of queued for minutes; the per-IP and
 * per-account login limits stop it before that in practice.
 */
#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <unistd.h>

#include "adm_priv.h"

#define ADM_CRYPT_QUEUE_MAX 64

struct crypt_job {
    struct adm_req *r;
    adm_crypt_cb cb;
    void *arg;
    int result;
    char password[ADM_PASSWORD_MAX + 1];
    char hash[ADM_HASH_MAX];
    TAILQ_ENTRY(crypt_job) link;
};
TAILQ_HEAD(crypt_jobs, crypt_job);

struct adm_crypt {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct crypt_jobs waiting, done; /* under mu */
    unsigned queued;              /* waiting + running + done: under mu */
    bool stop;                    /* under mu */
    int efd;
    struct event *ev;
};

static void job_free(struct crypt_job *j)
{
    explicit_bzero(j->password, sizeof(j->password));
    free(j);
}

static void *worker(void *arg)
{
    struct adm_crypt *c = arg;
    uint64_t one = 1;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->stop && TAILQ_EMPTY(&c->waiting))
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        struct crypt_job *j = TAILQ_FIRST(&c->waiting);
        TAILQ_REMOVE(&c->waiting, j, link);
        pthread_mutex_unlock(&c->mu);
        j->result = adm_password_verify(j->password, j->hash) ? 1 : 0;
        explicit_bzero(j->password, sizeof(j->password));
        pthread_mutex_lock(&c->mu);
        TAILQ_INSERT_TAIL(&c->done, j, link);
        /* a full eventfd counter (2^64 - 2) cannot happen: the loop reads it each time */
        if (write(c->efd, &one, sizeof(one)) != sizeof(one))
            break;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* On the loop: the answers so far, each to its callback (which may queue another job). */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
    struct adm_crypt *c = arg;
    struct crypt_jobs ready = TAILQ_HEAD_INITIALIZER(ready);
    struct crypt_job *j;
    uint64_t n;

    (void)what;
    if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        return;
    pthread_mutex_lock(&c->mu);
    TAILQ_CONCAT(&ready, &c->done, link);
    pthread_mutex_unlock(&c->mu);
    while ((j = TAILQ_FIRST(&ready))) {
        TAILQ_REMOVE(&ready, j, link);
        pthread_mutex_lock(&c->mu);
        c->queued--;
        pthread_mutex_unlock(&c->mu);
        j->cb(j->r, j->result, j->arg);
        job_free(j);
    }
}

int adm_crypt_new(struct event_base *base, struct adm_crypt **out)
{
    struct adm_crypt *c = calloc(1, sizeof(*c));
    int rc = -ENOMEM;

    *out = NULL;
    if (!c)
        return -ENOMEM;
    TAILQ_INIT(&c->waiting);
    TAILQ_INIT(&c->done);
    c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (c->efd < 0) {
        rc = -errno;
        goto fail_fd;
    }
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        goto fail_mu;
    if (pthread_cond_init(&c->cv, NULL) != 0)
        goto fail_cv;
    c->ev = event_new(base, c->efd, EV_READ | EV_PERSIST, on_done, c);
    if (!c->ev || event_add(c->ev, NULL) < 0)
        goto fail_ev;
    if ((rc = -pthread_create(&c->thread, NULL, worker, c)) < 0)
        goto fail_ev;
    c->started = true;
    *out = c;
    return 0;
fail_ev:
    if (c->ev)
        event_free(c->ev);
    pthread_cond_destroy(&c->cv);
fail_cv:
    pthread_mutex_destroy(&c->mu);
fail_mu:
    close(c->efd);
fail_fd:
    free(c);
    return rc < 0 ? rc : -ENOMEM;
}

int adm_crypt_verify(struct adm_crypt *c, struct adm_req *r, const char *password,
                     const char *hash, adm_crypt_cb cb, void *arg)
{
    struct crypt_job *j;
    size_t pl = password ? strlen(password) : 0, hl = hash ? strlen(hash) : 0;

    if (!c || !cb || !password || !hash || pl > ADM_PASSWORD_MAX || hl >= ADM_HASH_MAX)
        return -EINVAL;
    j = calloc(1, sizeof(*j));
    if (!j)
        return -ENOMEM;
    j->r = r;
    j->cb = cb;
    j->arg = arg;
    memcpy(j->password, password, pl + 1);
    memcpy(j->hash, hash, hl + 1);
    pthread_mutex_lock(&c->mu);
    if (c->stop || c->queued >= ADM_CRYPT_QUEUE_MAX) {
        pthread_mutex_unlock(&c->mu);
        job_free(j);
        return -EBUSY;
    }
    c->queued++;
    TAILQ_INSERT_TAIL(&c->waiting, j, link);
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

void adm_crypt_free(struct adm_crypt *c)
{
    struct crypt_job *j;

    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (c->started)
        pthread_join(c->thread, NULL); /* it finishes the run under way, if any */
    /* the thread is gone: no lock needed; every accepted job gets its one callback */
    TAILQ_CONCAT(&c->done, &c->waiting, link);
    while ((j = TAILQ_FIRST(&c->done))) {
        TAILQ_REMOVE(&c->done, j, link);
        j->cb(j->r, -ECANCELED, j->arg);
        job_free(j);
    }
    event_free(c->ev);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    close(c->efd);
    free(c);
}
