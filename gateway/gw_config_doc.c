/*
 * gw_config_doc.c - the meaning of each configuration key and section, one line each, for the
 * generated reference (gw_config_print_reference, docs/configuration.md). Types, bounds and
 * defaults are NOT written here: they come from the key table in gw_config.c, so they cannot
 * drift. A key missing here shows "(not described yet)" in the reference.
 */
#include <stddef.h>
#include <string.h>

#include "gw_config.h"

static const struct {
    const char *name, *doc;
} docs[] = {
    /* sections */
    {"smpp", "The SMPP link to the carrier's SMSC (shared/spec/events.md, ussd.md). One link per "
             "process: run one `loyaltygw@` instance per SMSC bind."},
    {"redis", "The Redis store of the ledger, sessions and redemptions: one server (TCP or unix "
              "socket) or a Redis Cluster (`cluster_nodes`)."},
    {"events", "The carrier's event contract (shared/spec/events.md): who may send events and "
               "what they may contain."},
    {"ledger", "The points ledger in Redis."},
    {"loyalty", "Marketing's loyalty table, inline or the name of a JSON file relative to this "
                "one; reloaded by SIGHUP."},
    {"ussd", "USSD self-service (*555#, shared/spec/ussd.md); off while `menus_file` is empty."},
    {"sms", "Balance by SMS: MO keywords sent to the short code."},
    {"suggestions", "The suggestion box: members' ideas by SMS and 1-5 ratings over USSD, kept in "
                    "`sg:{sg}:*` for the console's inbox (gateway/gw_suggest.h)."},
    {"provisioning", "The carrier's grant API and the gift fulfilment worker."},
    {"catalog", "Gift catalogue, gift days and redemption; off while `file` is empty."},
    {"broadcast", "The gift-day reminder broadcast."},
    {"expiry", "The points expiry job and its warning SMS (docs/loyalty-and-events.md)."},
    {"campaigns", "The campaign rules (welcome, tenure, win-back) of the document "
                  "`cfg:{adm}:campaigns` (docs/campaigns.md)."},
    {"transfers", "Points transfer between members, protected by a PIN; SIM swaps freeze it "
                  "(docs/loyalty-and-events.md)."},
    {"brakes", "Fraud brakes: velocity caps per MSISDN on redemptions and the redemption-rate "
               "breaker that freezes an item (docs/loyalty-and-events.md)."},
    {"log", "Logs: one line per event, MSISDNs masked to their last 4 digits."},
    {"journal", "The event journal on disk, replayed by `loyaltyctl whatif` (what-if before "
                "publishing a loyalty table)."},
    {"metrics", "Counters for operators: the stats file, and GET /metrics, /health, /ready."},
    /* smpp */
    {"smpp.name", "Name of the link in logs (`smpp{SMSC1}[BOUND]`) and in the `smsc` label."},
    {"smpp.host", "SMSC host name or address."},
    {"smpp.port", "SMSC TCP port."},
    {"smpp.system_id", "bind system_id given by the carrier."},
    {"smpp.password", "bind password given by the carrier."},
    {"smpp.system_type", "bind system_type, if the carrier asks for one."},
    {"smpp.address_range", "bind address_range, if the carrier asks for one."},
    {"smpp.bind_mode", "One transceiver bind, or a transmitter and a receiver."},
    {"smpp.window", "submit_sm outstanding without a response."},
    {"smpp.enquire_link_ms", "Idle time before an enquire_link is sent."},
    {"smpp.response_timeout_ms", "Deadline of bind, enquire_link, submit and unbind responses."},
    {"smpp.connect_timeout_ms", "TCP connect deadline."},
    {"smpp.reconnect_min_ms", "First reconnect back-off, doubled per failure with jitter."},
    {"smpp.reconnect_max_ms", "Longest reconnect back-off."},
    {"smpp.drain_timeout_ms", "On stop: time for in-flight commits before unbind."},
    {"smpp.throttle_backoff_ms", "Pause after ESME_RTHROTTLED or ESME_RMSGQFUL."},
    {"smpp.tps", "submit_sm per second allowed by the carrier (0 = unlimited)."},
    {"smpp.max_pdu", "Largest PDU accepted; longer ones are refused by the pre-scan."},
    {"smpp.submit_queue_max", "submit_sm queued beyond the window before senders get ENOBUFS."},
    {"smpp.rx_pending_max", "deliver_sm received and not yet answered, at most; beyond it the "
                            "SMSC gets ESME_RTHROTTLED and redelivers later."},
    /* redis */
    {"redis.host", "Redis host (ignored when `unix_socket` is set)."},
    {"redis.port", "Redis TCP port."},
    {"redis.unix_socket", "Path of Redis's unix socket; \"\" = TCP."},
    {"redis.connect_timeout_ms", "Connect deadline."},
    {"redis.request_timeout_ms", "Deadline of every request; an event not committed in time is "
                                 "answered ESME_RX_T_APPN and redelivered."},
    {"redis.reconnect_min_ms", "First reconnect back-off."},
    {"redis.reconnect_max_ms", "Longest reconnect back-off."},
    {"redis.max_pending", "Requests in flight before new ones are refused."},
    {"redis.cluster_nodes", "Redis Cluster seeds [\"host:port\", ...]; empty = one Redis."},
    {"redis.username", "Redis ACL user (deploy/redis-users.acl.in has one per process); \"\" = the "
                       "default user. Needs a password."},
    {"redis.password", "Redis password (ACL user's, or requirepass's). Prefer `password_file` or "
                       "the environment variable LGW_REDIS_PASSWORD, which wins over both; never "
                       "logged, printed as ***."},
    {"redis.password_file", "File whose first line is the Redis password (relative to this "
                            "configuration file's folder); wins over `password`."},
    {"redis.sentinels", "Redis Sentinel addresses [\"host:port\", ...]: the primary is asked from "
                        "them and followed on failover (+switch-master); not with `cluster_nodes`."},
    {"redis.master_name", "The primary's name in Sentinel (required with `sentinels`)."},
    {"redis.wait_replicas", "A commit is acknowledged only once this many replicas hold it (WAIT), "
                            "so a failover cannot lose an answered event; 0 = do not wait."},
    {"redis.wait_timeout_ms", "How long WAIT may take; a commit not replicated in time is answered "
                              "ESME_RX_T_APPN (redelivered, deduplicated); 0 = half the request deadline."},
    /* events */
    {"events.senders", "source_addr values allowed to send carrier events."},
    {"events.country_prefixes", "Country codes an MSISDN must start with."},
    {"events.currency", "ISO 4217 currency of the amounts."},
    {"events.max_amount", "Largest amount accepted, in major units (a string with decimals)."},
    {"events.max_age_days", "Oldest event accepted."},
    {"events.max_future_s", "Clock skew tolerated for events dated in the future."},
    {"events.kind_names", "The carrier's names of the event kinds."},
    {"events.key_names", "The carrier's names of the event fields."},
    /* transfers */
    {"transfers.min_points", "Smallest transfer, in points."},
    {"transfers.max_points", "Largest transfer, in points."},
    {"transfers.day_cap", "Points a member may send per local day (0: no cap)."},
    {"transfers.peer_cap", "Points a member may send to one recipient per local day (0: no cap)."},
    {"transfers.max_wrong_pins", "Wrong PINs in a row that lock transfers and PIN changes."},
    {"transfers.lock_s", "How long wrong PINs lock transfers, in seconds."},
    {"transfers.simswap_freeze_s", "How long a carrier SIMSWAP event freezes the subscriber's "
                                   "outgoing transfers, in seconds from its arrival."},
    {"transfers.pending_timeout_s", "Age of a debited, not yet credited transfer before the "
                                    "sweeper completes it (a gateway died between the wallets)."},
    {"transfers.sweep_interval_ms", "How often the transfer sweeper runs."},
    {"transfers.sweep_slots", "Redis Cluster slots' pending sets the sweeper reads per run (16384 "
                              "slots make a full pass)."},
    {"transfers.retention_s", "How long transfer records are kept (a retried confirm within it "
                              "is recognised)."},
    /* ledger */
    {"ledger.history_len", "Movements kept per subscriber for USSD and care."},
    {"ledger.ref_index_buckets", "Keys per period of the carrier-wide ref index (a ref committed "
                                 "for another MSISDN is refused; docs/data-model.md 4). Each "
                                 "commit reads its bucket's strings whole (13 bytes a ref): "
                                 "about the refs of a period / 400 keeps them ~5 KB; 65536 for "
                                 "up to ~5 million subscribers at 5 events a month, 262144 for "
                                 "20 million. Chosen at installation: a change remaps the refs "
                                 "already indexed."},
    {"ledger.point_value_micro", "What one point is worth, in millionths of `events.currency` "
                                 "(10000 = 0.01): the liability in money of `loyaltyctl report` "
                                 "(docs/data-model.md section 6); 0 = not shown."},
    {"ledger.ref_retention_days", "How long event references are kept to refuse duplicates; must "
                                  "exceed events.max_age_days."},
    {"ledger.dlq_maxlen", "Entries kept in each dead-letter stream (`lg:dlq:event` for refused "
                          "events, `lg:dlq:pdu` for refused PDUs), approximately."},
    /* loyalty */
    {"loyalty.timezone", "IANA zone of the programme's local days (seasons, caps, gift days), read "
                         "from /usr/share/zoneinfo at start-up (loyaltygw reads it again at "
                         "SIGHUP: a tzdata update needs no restart, another zone does); the TZ "
                         "environment variable is not used."},
    {"loyalty.points_validity_days", "Days points earned on a local day stay spendable (wins over "
                                     "`points_validity_months`); 0 = by months."},
    {"loyalty.rates", "Points per unit by channel."},
    {"loyalty.seasons", "Multipliers between local dates."},
    {"loyalty.promotions", "Bonus rules between local dates."},
    {"loyalty.tiers", "Tiers by threshold (`min_points`, in the units of `tier_basis`), ascending; "
                      "the first starts at 0."},
    {"loyalty.tier_basis", "What tiers qualify on: `lifetime` points (tiers never fall), "
                           "`points` earned or `spend` (whole currency units) over the last "
                           "`tier_window_months` local months (tiers rise at once, fall after "
                           "`tier_grace_days`; docs/loyalty-and-events.md)."},
    {"loyalty.tier_window_months", "Local months of the rolling tier window, this one included "
                                   "(1..12)."},
    {"loyalty.tier_grace_days", "Days a subscriber stays below its tier's threshold before "
                                "falling (0 = at once)."},
    {"loyalty.daily_cap", "Most points one subscriber earns per local day (0 = no cap)."},
    {"loyalty.points_validity_months", "Months before a lot of points expires (0 = never)."},
    /* ussd */
    {"ussd.service_code", "The USSD service code subscribers dial (*555#)."},
    {"ussd.dest_form", "How the SMSC writes the service code in destination_addr."},
    {"ussd.end_method", "How the last screen ends the dialogue on this SMSC."},
    {"ussd.abort_op", "Vendor ussd_service_op meaning abort (-1 = none)."},
    {"ussd.key_mode", "Where the SMSC carries the dialogue key."},
    {"ussd.t_answer_ms", "Time a subscriber has to answer a screen."},
    {"ussd.t_total_ms", "Longest dialogue."},
    {"ussd.t_end_ms", "Time to wait for the end of a dialogue after the last screen."},
    {"ussd.gsm7_limit", "Characters per GSM-7 screen."},
    {"ussd.ucs2_limit", "Characters per UCS-2 screen."},
    {"ussd.bidi_marks", "Add Unicode direction marks to right-to-left screens."},
    {"ussd.dcs_gsm7", "data_coding sent for GSM-7 screens."},
    {"ussd.dcs_ucs2", "data_coding sent for UCS-2 screens."},
    {"ussd.ucs2_surrogates", "Whether the SMSC accepts UTF-16 surrogate pairs."},
    {"ussd.menus_file", "The menus file (four languages); \"\" = USSD off."},
    /* sms */
    {"sms.short_code", "Short code the balance keywords are sent to."},
    {"sms.keywords", "MO keywords that ask for the balance."},
    {"sms.stop_keywords", "MO keywords that opt the sender out of marketing SMS (the reminder "
                          "audience), confirmed by sms.<lang>.opted_out; case-, accent- and "
                          "harakat-blind."},
    {"sms.start_keywords", "MO keywords that opt the sender back in, confirmed by "
                           "sms.<lang>.opted_in."},
    {"sms.alerts_off_keywords", "MO keywords that turn off the sender's points-expiry warnings "
                                "(a service message with its own switch: STOP leaves it on), "
                                "confirmed by sms.<lang>.alerts_off; recorded as `alerts 0` in "
                                "the consent record."},
    {"sms.alerts_on_keywords", "MO keywords that turn the expiry warnings back on, confirmed by "
                               "sms.<lang>.alerts_on."},
    /* the suggestion box (issue 10 section 2; gateway/gw_suggest.h) */
    {"sms.suggest_keywords", "First words of an idea sent by SMS to the short code (`IDEE le "
                             "wifi...`), matched like the STOP keywords; the rest of the text is "
                             "stored, and the member's first idea is thanked by "
                             "sms.<lang>.suggest_thanks (built-in texts otherwise). One word each."},
    {"suggestions.retention_days", "Ideas and ratings older than this are trimmed from the "
                                   "stream, with their weekly counters and the console's tags."},
    {"suggestions.max_entries", "The stream never keeps many more entries than this, whatever "
                                "their age (a flood from many numbers)."},
    {"suggestions.per_day", "Ideas plus ratings kept per member and local day; more are dropped "
                            "(counted as `capped`)."},
    {"suggestions.text_max", "Bytes of an idea's text kept (cut on a character boundary), after "
                             "control characters are removed."},
    /* provisioning */
    {"provisioning.enabled", "Run the fulfilment worker in this process."},
    {"provisioning.base_url", "The carrier's grant API (https://...)."},
    {"provisioning.token", "Bearer token of the grant API; empty or the shipped placeholder "
                           "(`change-me`) is refused at start."},
    {"provisioning.insecure_test_mode", "Tests and demos only: accepts `http://` to a loopback host "
                                        "and a placeholder token, with a loud warning at start. "
                                        "Otherwise `base_url` must be `https://`."},
    {"provisioning.connect_timeout_ms", "Connect deadline of a grant call."},
    {"provisioning.timeout_ms", "Deadline of a grant call."},
    {"provisioning.retry_min_ms", "First retry back-off after a temporary failure."},
    {"provisioning.retry_max_ms", "Longest retry back-off."},
    {"provisioning.retry_deadline_s", "Give up (and refund) after this long."},
    {"provisioning.claim_idle_ms", "Take over entries of a dead consumer after this idle time."},
    {"provisioning.max_in_flight", "Grant calls at once."},
    {"provisioning.group", "Consumer group on the fulfilment stream."},
    {"provisioning.consumer", "This process's consumer name; \"\" = the host name. Distinct "
                              "per gateway."},
    {"provisioning.sms_lang", "Language of the fulfilment SMS for unknown languages."},
    /* catalog */
    {"catalog.file", "The catalogue file; \"\" = no gifts."},
    {"catalog.giftdays_file", "The gift-day calendar file."},
    {"catalog.vouchers_dir", "Folder of voucher CSV pools."},
    {"catalog.reservation_timeout_s", "A reservation not confirmed in time is released."},
    {"catalog.sweep_interval_ms", "How often expired reservations are released."},
    {"catalog.gift_tiers", "Tiers that may gift to another number (comma-separated)."},
    {"catalog.perk_share_pct",
     "Premium perk: after redeeming a gift, a member of catalog.gift_tiers may offer the same gift "
     "to a relative; that second unit takes stock like any unit and costs this percentage of the "
     "price (rounded down; 0 = free)."},
    {"catalog.perk_per_day",
     "Premium perks per member and gift day (1 to offer it); 0 = the perk is not offered."},
    {"catalog.follow_redis_docs", "Follow the catalogue and calendar saved from the console."},
    {"catalog.docs_poll_ms", "How often the console's documents are checked."},
    /* campaigns */
    {"campaigns.enabled", "Apply the campaigns document: bonuses on events and the win-back offer "
                          "pass (on a Redis Cluster a bonus is two steps: docs/campaigns.md)."},
    {"campaigns.pass_interval_s", "A win-back offer pass starts this long after the previous one."},
    {"campaigns.catchup_days", "Win-back due days of the past still read by a pass."},
    {"campaigns.quiet_start_hour", "Local hour from which no offer pass runs (no offer SMS)."},
    {"campaigns.quiet_end_hour", "Local hour from which offer passes run again (equal: never quiet)."},
    {"campaigns.marker_sweep_interval_ms",
     "The sweep of retired campaigns' markers `c:<id>` (docs/campaigns.md): one page of wallets "
     "this often, on the one gateway holding its lease; idle while nothing is retired."},
    {"campaigns.marker_sweep_batch", "Wallets in one page of the marker sweep, about (the SCAN "
                                     "COUNT; on a Redis Cluster, slots are read until this many)."},
    {"campaigns.marker_sweep_grace_s",
     "A campaign retired is swept this long after this gateway saw it retired (or from the next "
     "local day): gateways on the previous document may still write its marker meanwhile."},
    {"campaigns.marker_sweep_lease_ms", "The lease of the gateway sweeping markers; another one "
                                        "takes over this long after it stopped."},
    /* expiry */
    {"expiry.enabled", "Run the expiry job in this gateway (several may: slots are claimed)."},
    {"expiry.warn_days", "Warning SMS this many days before points expire, descending (\"30,7\"; "
                         "\"\" = none); each lot warned at most once per level."},
    {"expiry.quiet_start_hour", "Local hour from which no pass runs and no warning is sent."},
    {"expiry.quiet_end_hour", "Local hour from which passes run again (equal to the start: never "
                              "quiet)."},
    {"expiry.pass_interval_s", "A pass starts this long after the previous one ended."},
    {"expiry.catchup_days", "Due days looked back when no pass ever completed."},
    {"expiry.lease_ms", "How long a gateway's claim on a slot lasts."},
    {"expiry.batch", "Subscribers read and handled at once per slot."},
    {"expiry.require_optin", "Warn only subscribers in the opt-in set `bc:{bc}:optin` (STOP then "
                             "stops the warnings too); false: the warnings are a service message "
                             "and follow only their own switch (the consent record's `alerts`, "
                             "sms.alerts_off_keywords, the console)."},
    /* broadcast */
    {"broadcast.enabled", "Run reminder campaigns from this process."},
    {"broadcast.poll_ms", "How often due campaigns are looked for."},
    {"broadcast.lease_ms", "Lease of a running campaign (one runner at a time)."},
    {"broadcast.max_in_flight", "Reminders submitted and not answered at once."},
    {"broadcast.build_batch", "Recipients added to the list per step."},
    {"broadcast.progress_log_s", "Progress log period (0 = off)."},
    {"broadcast.keep_days", "Days a finished campaign's records are kept."},
    {"broadcast.resend_unknown", "Resend reminders whose answer was lost (may double)."},
    {"broadcast.slot_sms", "The day before a gift day with a staggered item, text every opted-in "
                           "member their slot (paused in the expiry quiet hours, once per member "
                           "and gift day, never after the opening)."},
    {"broadcast.slot_sms_hour", "Local hour of the day before the gift day the slot SMS starts at."},
    /* journal */
    {"journal.dir", "Absolute folder of the event journal: every committed event as one line in "
                    "`<YYYYMMDD>-<smpp.name>.lj` (local day), read by `loyaltyctl whatif`; "
                    "\"\" = off. About 75 bytes per event (docs/operations.md)."},
    {"journal.keep_days", "Day files kept, today included; older ones are removed at each day "
                          "change. The longest what-if window."},
    /* brakes */
    {"brakes.redeem_per_hour", "Redemptions one MSISDN may make per clock hour; more are refused "
                               "with the `velocity` screen (0 = no cap)."},
    {"brakes.redeem_per_day", "Redemptions one MSISDN may make per local day (0 = no cap)."},
    {"brakes.events_per_hour", "Earning events (TOPUP, BILL, USAGE) one MSISDN may earn points "
                               "with per clock hour. An event over a cap is still committed and "
                               "acknowledged (`ESME_ROK`, ref, history, aggregates) but its points "
                               "are **held** (the wallet's `hold`, an ALARM log line, "
                               "`loyaltygw_events_total{outcome=\"held\"}`) until staff release "
                               "or cancel them. 0 = no cap."},
    {"brakes.events_per_day", "The same per local day (0 = no cap)."},
    {"brakes.points_per_hour", "Points one MSISDN may earn from events per clock hour: the event "
                               "that would pass it has all its points held (0 = no cap)."},
    {"brakes.points_per_day", "The same per local day (0 = no cap)."},
    {"brakes.breaker", "Watch each item's redemption rate (and all items') and freeze an item "
                       "whose rate jumps above its baseline: kill switch `cat:{ITEM}:k`, alarm "
                       "log, audit record; staff resume it (`loyaltyctl item ID resume`)."},
    {"brakes.breaker_window_s", "The breaker's counting window."},
    {"brakes.breaker_half_life_s", "Half-life of the baseline (mean redemptions per window)."},
    {"brakes.breaker_multiple_pct", "Trip when a window's count passes this % of the baseline."},
    {"brakes.breaker_min_count", "Never trip below this many redemptions in a window."},
    {"brakes.breaker_floor_milli", "Smallest baseline, thousandths of a redemption per window."},
    /* log, metrics */
    {"log.level", "Lowest level logged."},
    {"log.format", "`text`: `<time> <LEVEL> <category> <message>`; `json`: one JSON object per "
                   "line with ts, level, cat, msg."},
    {"log.output", "`stderr` (under systemd: the journal), `syslog` (facility daemon) or "
                   "`journal` (journald's native protocol, with PRIORITY and LGW_CATEGORY fields; "
                   "needs journald)."},
    {"metrics.stats_file", "Counters written there as JSON every interval (\"\" = off)."},
    {"metrics.interval_s", "Period of the stats file."},
    {"metrics.listen", "host:port of GET /metrics (Prometheus), /health and /ready; \"\" = off. "
                       "Keep it on loopback or a management network."},
    {"metrics.ready_probe_ms", "Period of the Redis write probe behind /ready (SET "
                               "lg:ready:<smpp.name>); ready needs a good answer within 3 "
                               "periods."},
};

const char *gw_config_key_doc(const char *name)
{
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        if (strcmp(docs[i].name, name) == 0)
            return docs[i].doc;
    }
    return NULL;
}
