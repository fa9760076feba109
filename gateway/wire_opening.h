/*
 * wire_opening.h - the day-before SMS of a staggered gift-day opening (issue 12 s3): the hooks
 * (gw_broadcast_hooks) that let the reminder broadcast runner plan one campaign per gift day and
 * write each member's own text. Part of the loyaltygw program only (wire_*.c): it sees the
 * catalogue wiring (wire_catalog.h) and the broadcast runner (gw_broadcast.h).
 *
 *   - plan: when the next regular opening's gift day D has an item opened staggered (enabled,
 *     valid on D, not killed), from broadcast.slot_sms_hour (local, programme zone) on the day
 *     before D until that opening, the campaign "slot-<D>" should exist: texts in ar, fr, en, fa
 *     holding {slot}, quiet hours on (expiry.quiet_start_hour .. quiet_end_hour, programme zone),
 *     ended at the opening. The runner creates it once (idempotent by id), lists the opted-in
 *     members and sends through the SMPP link's TPS, rechecking consent and blocking per member.
 *   - expand: {slot} for one member, computed from their number (cat_cohort_release, the one
 *     cohort function): "<item name> <slot>" per staggered item of the day, in their language.
 *     Nothing per member is kept in memory or in Redis beyond the campaign's list and bitmaps.
 */
#ifndef WIRE_OPENING_H
#define WIRE_OPENING_H

#include <stddef.h>
#include <stdint.h>

#include "gw_broadcast.h"
#include "gw_config.h"

struct wire_catalog;
struct wire_opening;

/* The slot SMS text of language lang (ar fr en fa; another: en) with {slot} and the service code
 * (*<code>#), for the campaign's texts. Returns the length or -ENOSPC. */
int wire_opening_sms_text(const char *lang, const char *service_code, char *out, size_t cap);

/* cat is borrowed and must outlive the object; cfg is copied (the hour, the quiet hours, the
 * service code). NULL on ENOMEM. */
struct wire_opening *wire_opening_new(struct wire_catalog *cat, const struct gw_config *cfg);
void wire_opening_hooks(struct wire_opening *o, struct gw_broadcast_hooks *out);
void wire_opening_free(struct wire_opening *o); /* NULL is a no-op */

#endif
