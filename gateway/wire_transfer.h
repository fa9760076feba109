/*
 * wire_transfer.h - the adapter that lets subscribers send points over USSD (issue 10 section 4;
 * part of the loyaltygw program only, like every wire_*.c). It binds the USSD transfer hook
 * (gw_ussd_xfer_fn: the answer to a "pin" or "pin_set" screen) to the transfer engine
 * (gw_transfer_send / gw_transfer_pin_set) and, once a transfer went through, sends one SMS to each
 * side through the SMS sender (gw_sms_send: the link's TPS bucket and throttling), each in their
 * saved language - the texts "transfer_sent" / "transfer_received" of the menu file's "sms"
 * section, built-in English when the file has none. Transactional like the fulfilment texts: no
 * marketing opt-out applies to them.
 *
 * The transfer id's token is derived from the dialogue (session key and start time): a repeated
 * PIN answer of one dialogue is the same transfer, credited once (gw_transfer.h).
 *
 * Ownership: everything given to wire_transfer_new() is borrowed and must outlive the adapter;
 * each request owns a small context freed after its callback. Teardown: after gw_redis_free() (its
 * pending answers fail, which frees their contexts), wire_transfer_free().
 */
#ifndef WIRE_TRANSFER_H
#define WIRE_TRANSFER_H

#include "gw_config.h"
#include "gw_ussd.h"

struct gw_transfer;
struct gw_redis;
struct gw_sms;
struct ussd_menus;
struct wire_transfer;

/* sms may be NULL (no SMS); menus is the owner's pointer (a reload applies at once). NULL on
 * ENOMEM. */
struct wire_transfer *wire_transfer_new(struct gw_transfer *x, struct gw_redis *redis,
                                        struct gw_sms *sms, struct ussd_menus *const *menus,
                                        const struct gw_config *cfg);
/* The gw_ussd transfer hook; arg is the struct wire_transfer. */
int wire_transfer_ussd(void *arg, const struct gw_ussd_xfer_req *req, gw_ussd_xfer_cb done,
                       void *cb_arg);
/* NULL is a no-op. */
void wire_transfer_free(struct wire_transfer *w);

#endif
