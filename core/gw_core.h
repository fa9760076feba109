/*
 * gw_core.h - the few things every layer shares: one-line logging with categories and masked
 * MSISDNs, the clock, and a table-driven finite state machine helper (the Osmocom osmo_fsm
 * pattern: each state lists the events it accepts and the states it may go to; timers are named
 * and arrive as events; every transition is logged as `name(id){STATE}` so a test can compare
 * the transition log with a golden one).
 *
 * Nothing here allocates behind the caller's back: a gw_fsm_inst is embedded in its owner and
 * lives as long as the owner does.
 */
#ifndef GW_CORE_H
#define GW_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct event;

/* ---------------------------------------------------------------- logging */

enum gw_log_level { GW_LOG_DEBUG = 0, GW_LOG_INFO, GW_LOG_NOTICE, GW_LOG_ERROR };

/* A sink receives one finished line (no trailing newline). Default: stderr with a UTC timestamp. */
typedef void (*gw_log_sink)(void *arg, enum gw_log_level level, const char *category,
                            const char *line);

void gw_log_set_level(enum gw_log_level level);
enum gw_log_level gw_log_get_level(void);
/* Parses "debug", "info", "notice", "error". Returns 0 or -EINVAL. */
int gw_log_level_parse(const char *name, enum gw_log_level *out);
/* Replaces the sink (NULL restores stderr). Tests use it to capture transition logs. */
void gw_log_set_sink(gw_log_sink sink, void *arg);

/* One line: "<time> <LEVEL> <category> <message>". The message is truncated at 1 KiB and
 * control characters are replaced, so untrusted text cannot forge extra log lines. */
void gw_log(enum gw_log_level level, const char *category, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gw_logv(enum gw_log_level level, const char *category, const char *fmt, va_list ap);

/* Where and how lines go (config keys log.format and log.output):
 *   format "text": "<time> <LEVEL> <category> <message>" (the default)
 *   format "json": one JSON object per line,
 *       {"ts":"2026-12-07T01:02:03.456Z","level":"INFO","cat":"ingest","msg":"..."}
 *     the message escaped by the JSON rules, bytes that are not UTF-8 as U+FFFD; still one line.
 *   output "stderr" (the default; under systemd that is the journal already, with timestamps),
 *   "syslog" (syslog(3), facility daemon, ident = the program), or "journal" (sd_journal_send
 *   with PRIORITY, SYSLOG_IDENTIFIER and LGW_CATEGORY fields, so `journalctl LGW_CATEGORY=smpp`
 *   works). MSISDNs are masked by the callers before formatting, whatever the output.
 * ident is borrowed (static storage: argv[0]'s base name, "loyaltygw"). A test sink
 * (gw_log_set_sink) still wins over all of these. Returns 0 or -EINVAL (nothing changed). */
int gw_log_configure(const char *format, const char *output, const char *ident);
/* The JSON line for one message, without newline, into out (always NUL-terminated, cut at a
 * character boundary with the closing "} kept when out is too small). Returns its length. */
size_t gw_log_format_json(char *out, size_t cap, int64_t now_ms, enum gw_log_level level,
                          const char *category, const char *msg);

#define GW_LOGD(cat, ...)                                                                          \
    do {                                                                                           \
        if (gw_log_get_level() <= GW_LOG_DEBUG)                                                    \
            gw_log(GW_LOG_DEBUG, cat, __VA_ARGS__);                                                \
    } while (0)
#define GW_LOGI(cat, ...) gw_log(GW_LOG_INFO, cat, __VA_ARGS__)
#define GW_LOGN(cat, ...) gw_log(GW_LOG_NOTICE, cat, __VA_ARGS__)
#define GW_LOGE(cat, ...) gw_log(GW_LOG_ERROR, cat, __VA_ARGS__)

/* Masks an MSISDN to its last 4 digits for logs: "212612345678" -> "…5678". Untrusted input is
 * fine: non-digits are shown as '?'. Writes into buf (at least GW_MASK_LEN bytes), returns buf. */
#define GW_MASK_LEN 16
const char *gw_mask_msisdn(const char *msisdn, char *buf);

/* Escapes arbitrary bytes into printable ASCII (\xNN for anything else), always NUL-terminated,
 * truncated with "..." when out is too small. Returns out. For logging untrusted text. */
const char *gw_escape(const void *data, size_t len, char *out, size_t outlen);
/* v in decimal at w (up to 20 bytes, no NUL); returns the end. For hot paths where snprintf's
 * cost shows (the Redis commands and the ledger's arguments, once per event). */
char *gw_put_u64(char *w, uint64_t v);

/* ---------------------------------------------------------------- service manager */

/* systemd's notification protocol (Type=notify; gw_service.c, libsystemd). Every call is a no-op
 * when the process was not started by systemd ($NOTIFY_SOCKET unset). */
enum gw_service_state { GW_SERVICE_READY, GW_SERVICE_RELOADING, GW_SERVICE_STOPPING,
                        GW_SERVICE_STATUS };
/* Sends READY=1 / RELOADING=1 / STOPPING=1 (or only STATUS= with GW_SERVICE_STATUS) with an
 * optional STATUS= text (may be NULL). */
void gw_service_notify(enum gw_service_state state, const char *status);
/* When systemd set WatchdogSec, pings WATCHDOG=1 from base's loop every half interval. Returns 1
 * when started, 0 when no watchdog is asked for, -1 on ENOMEM. */
int gw_service_watchdog_start(struct event_base *base);
/* Stops the pings (before freeing base). */
void gw_service_watchdog_stop(void);

/* ---------------------------------------------------------------- clock */

/* Wall clock in milliseconds since the epoch, and a monotonic clock in milliseconds. Tests may
 * replace the wall clock (gw_clock_set) to run rules "at" any date. */
int64_t gw_clock_now_ms(void);
int64_t gw_clock_mono_ms(void);
typedef int64_t (*gw_clock_fn)(void *arg);
void gw_clock_set(gw_clock_fn fn, void *arg); /* NULL restores the real clock */

/* ---------------------------------------------------------------- reconnect back-off */

/* Exponential back-off with full jitter, shared by every link that reconnects (SMPP, Redis):
 * after n consecutive failures the delay is uniform in [min, min(max, min * 2^(n+1))], so a fleet
 * of gateways cut off by one SMSC or Redis restart does not come back in the same millisecond.
 * The generator is xorshift64: it only needs to differ between processes, not to be secret. */
struct gw_backoff {
    uint32_t min_ms, max_ms;
    uint32_t failures; /* consecutive failures so far */
    uint64_t rng;
};
/* seed 0 picks one from the clock, the pid and the object's address. */
void gw_backoff_init(struct gw_backoff *b, uint32_t min_ms, uint32_t max_ms, uint64_t seed);
/* The delay before the next try; counts one more failure. */
uint32_t gw_backoff_next(struct gw_backoff *b);
/* A success: the next failure starts again from min_ms. */
void gw_backoff_reset(struct gw_backoff *b);
/* xorshift64 step for small jitter needs; *state must not be 0. */
uint64_t gw_rng_next(uint64_t *state);

/* ---------------------------------------------------------------- FSM helper */

struct gw_fsm_inst;

struct gw_fsm_state {
    const char *name;
    uint32_t in_event_mask;  /* bit e set: event e is accepted in this state */
    uint32_t out_state_mask; /* bit s set: may change to state s */
    void (*action)(struct gw_fsm_inst *fi, uint32_t event, void *data);
    void (*onenter)(struct gw_fsm_inst *fi, uint32_t prev_state);
    void (*onleave)(struct gw_fsm_inst *fi, uint32_t next_state);
};

struct gw_fsm {
    const char *name;                     /* "smpp", "ussd" */
    const struct gw_fsm_state *states;    /* indexed by state number */
    uint32_t num_states;                  /* <= 32 */
    const char *const *event_names;       /* indexed by event number, <= 32 events */
    uint32_t num_events;
    const char *const *timer_names;       /* indexed by timer id (T_ENQUIRE, ...) */
    uint32_t num_timers;
    /* A named timer expired while in `state`. Called from the event loop, never re-entrantly. */
    void (*timer_cb)(struct gw_fsm_inst *fi, int timer_id);
};

struct gw_fsm_inst {
    const struct gw_fsm *fsm;
    char id[48];           /* "SMSC1", "…5678:12" - shown as name(id){STATE} */
    uint32_t state;
    void *priv;            /* the owner */
    struct event *timer;   /* one timer per instance, as in osmo_fsm */
    int timer_id;          /* which named timer is armed, -1 none */
    bool in_dispatch;
};

/* Makes fi ready in state 0. base may be NULL for instances that never arm timers (unit tests of
 * pure transitions). Returns 0 or -ENOMEM. */
int gw_fsm_inst_init(struct gw_fsm_inst *fi, const struct gw_fsm *fsm, struct event_base *base,
                     const char *id, void *priv);
/* Disarms and frees the timer. Safe on an instance that was never initialised (zeroed). */
void gw_fsm_inst_cleanup(struct gw_fsm_inst *fi);
/* Delivers event to the current state's action. Returns -EPERM (and logs) when the state does not
 * accept it, 0 otherwise. */
int gw_fsm_dispatch(struct gw_fsm_inst *fi, uint32_t event, void *data);
/* Changes state (validated against out_state_mask; -EPERM and an error log otherwise), runs
 * onleave/onenter and arms the named timer when timeout_ms > 0 (timer_id >= 0), or disarms it
 * when timeout_ms == 0. Logs "name(id){OLD} -> NEW" at info. */
int gw_fsm_state_chg(struct gw_fsm_inst *fi, uint32_t new_state, uint32_t timeout_ms, int timer_id);
/* Arms (or re-arms) the named timer without a state change. */
void gw_fsm_timer_arm(struct gw_fsm_inst *fi, uint32_t timeout_ms, int timer_id);
void gw_fsm_timer_disarm(struct gw_fsm_inst *fi);
/* Fires the armed timer now (fake time for tests). Returns -ENOENT when none is armed. */
int gw_fsm_timer_fire(struct gw_fsm_inst *fi);
const char *gw_fsm_state_name(const struct gw_fsm_inst *fi);
/* Logs at level with the "name(id){STATE}" prefix. */
void gw_fsm_log(const struct gw_fsm_inst *fi, enum gw_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define GW_BIT(n) (UINT32_C(1) << (n))

#endif
