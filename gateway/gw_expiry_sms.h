/*
 * gw_expiry_sms.h - the expiry warning as an SMS (gw_expiry.h's ops->warn): the text in the
 * subscriber's language (ar, fr, en, fa; the menu file's default language for a subscriber
 * without one) with how many points, the date and the redeem-now shortcut (*<service code>#),
 * sent through gw_sms, i.e. the SMPP link's TPS bucket and window.
 * Owner: the expiry engineer.
 */
#ifndef GW_EXPIRY_SMS_H
#define GW_EXPIRY_SMS_H

#include <stddef.h>

#include "gw_expiry.h"

struct gw_sms;
struct ussd_menus;

/* The warning text into out[0..cap) (UTF-8, NUL-terminated). lang "" or unknown: fallback (a
 * language code; "" = English). Returns the length, or -ENOSPC / -EINVAL. */
int gw_expiry_sms_text(const struct gw_expiry_warning *w, const char *fallback,
                       const char *service_code, char *out, size_t cap);

/* The ops for gw_expiry_new sending through sms (borrowed; must outlive the job's visits), the
 * shortcut from service_code (copied), the fallback language from *menus when there are menus
 * (borrowed pointer to the owner's pointer, re-read at each send: SIGHUP may swap it). */
struct gw_expiry_sms;
struct gw_expiry_sms *gw_expiry_sms_new(struct gw_sms *sms, const char *service_code,
                                        struct ussd_menus *const *menus);
void gw_expiry_sms_ops(struct gw_expiry_sms *s, struct gw_expiry_ops *out);
void gw_expiry_sms_free(struct gw_expiry_sms *s);

#endif
