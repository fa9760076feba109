/*
 * test_adm_crypt.c - the logins' yescrypt runs off the event loop (admin/adm_crypt.c): each
 * accepted job answers exactly once, on the loop, in order, with the right verdict; the loop keeps
 * turning while a run is under way; a full queue refuses at once; stopping answers every job not
 * delivered with -ECANCELED. Owner: the staff-console engineer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <string.h>

#include "adm_priv.h"

#define PW "correct horse battery"

struct seen {
    int results[128];
    int n;
    pthread_t thread[128];
};

static void on_result(struct adm_req *r, int result, void *arg)
{
    struct seen *s = arg;

    assert_null(r); /* passed through untouched */
    assert_true(s->n < 128);
    s->thread[s->n] = pthread_self();
    s->results[s->n++] = result;
}

static void ticker(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (*(int *)arg)++;
}

static void test_crypt__verdicts__in_order_on_the_loop(void **state)
{
    struct event_base *base = event_base_new();
    struct adm_crypt *c = NULL;
    struct seen s = {0};
    char hash[ADM_HASH_MAX];
    int ticks = 0;

    (void)state;
    assert_int_equal(0, adm_password_hash(PW, hash, sizeof(hash)));
    assert_int_equal(0, adm_crypt_new(base, &c));
    assert_int_equal(0, adm_crypt_verify(c, NULL, PW, hash, on_result, &s));
    assert_int_equal(0, adm_crypt_verify(c, NULL, "wrong horse battery", hash, on_result, &s));
    assert_int_equal(0, adm_crypt_verify(c, NULL, "", hash, on_result, &s));
    assert_int_equal(0, adm_crypt_verify(c, NULL, PW, hash, on_result, &s));
    /* a 1 ms timer on the same loop: it fires while the runs are under way elsewhere */
    struct event *tick = event_new(base, -1, EV_PERSIST, ticker, &ticks);
    struct timeval ms = {0, 1000};
    event_add(tick, &ms);
    while (s.n < 4)
        assert_int_equal(0, event_base_loop(base, EVLOOP_ONCE));
    event_free(tick);
    assert_int_equal(1, s.results[0]);
    assert_int_equal(0, s.results[1]);
    assert_int_equal(0, s.results[2]);
    assert_int_equal(1, s.results[3]);
    for (int i = 0; i < 4; i++)
        assert_true(pthread_equal(s.thread[i], pthread_self())); /* answered on the loop */
    assert_true(ticks > 0);
    adm_crypt_free(c);
    assert_int_equal(4, s.n); /* nothing left to answer */
    event_base_free(base);
}

static void test_crypt__full_queue_and_stop__refused_then_cancelled(void **state)
{
    struct event_base *base = event_base_new();
    struct adm_crypt *c = NULL;
    struct seen s = {0};
    char hash[ADM_HASH_MAX], longpw[ADM_PASSWORD_MAX + 2];
    int accepted = 0, rc;

    (void)state;
    assert_int_equal(0, adm_password_hash(PW, hash, sizeof(hash)));
    assert_int_equal(0, adm_crypt_new(base, &c));
    memset(longpw, 'a', sizeof(longpw) - 1);
    longpw[sizeof(longpw) - 1] = '\0';
    assert_int_equal(-EINVAL, adm_crypt_verify(c, NULL, longpw, hash, on_result, &s));
    while ((rc = adm_crypt_verify(c, NULL, PW, hash, on_result, &s)) == 0)
        accepted++;
    assert_int_equal(-EBUSY, rc);
    assert_true(accepted >= 1 && accepted <= 100);
    /* the loop never ran: nothing was delivered; stopping answers every accepted job once */
    assert_int_equal(0, s.n);
    adm_crypt_free(c);
    assert_int_equal(accepted, s.n);
    for (int i = 0; i < s.n; i++)
        assert_int_equal(-ECANCELED, s.results[i]);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crypt__verdicts__in_order_on_the_loop),
        cmocka_unit_test(test_crypt__full_queue_and_stop__refused_then_cancelled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
