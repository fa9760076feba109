/*
 * gw_zone.h - the programme zone: the IANA zone of the loyalty table (loyalty.timezone) in which
 * loyaltygw, loyaltyctl and loyalty-admin count every local day and hour: an event's day (the
 * daily cap, the lots), the history's dates, the quiet hours, the what-if's midnights, the UTC
 * offset handed to campaign.lua.
 *
 * One time-zone reader: the catalog's TZif reader (cat_tz, RFC 8536), the code the gift-day
 * calendar and the console use. The process TZ and libc's localtime/mktime are read nowhere, so
 * the environment a program starts in (a shell's TZ, a container's /etc/localtime) cannot move a
 * day, and no library call can switch the zone under another module.
 *
 * The zone is process-wide. gw_zone_load() installs it at start-up (gw_config_apply_timezone) and
 * again at a configuration reload (a tzdata update: Morocco's Ramadan dates are published a year
 * or so ahead); until then the zone is UTC. A zone once installed is never freed, so a thread
 * still answering with the previous one stays safe; a reload that finds the same rules installs
 * nothing. Loading locks; asking does not.
 *
 * Cost: every event asks for its local day. Each thread remembers the span over which the offset
 * it last looked up holds (cat_tz_utc_offset_span), so a call inside it is two comparisons and a
 * division; a call outside it is one binary search in the zone's transitions.
 */
#ifndef GW_ZONE_H
#define GW_ZONE_H

#include <stdint.h>

#include "catalog.h"

/* Loads IANA zone `name` from /usr/share/zoneinfo (cat_tz_load) and makes it the programme zone.
 * Returns 0, or a negative errno of cat_tz_load (-EINVAL bad name, -ENOENT no such zone, -EBADMSG
 * not a TZif file, ...), the zone in force then unchanged. */
int gw_zone_load(const char *name);

/* The programme zone (never NULL: UTC until a zone is loaded). Valid for the process's life. */
const struct cat_tz *gw_zone(void);

/* Seconds east of UTC at instant t (3600 in Casablanca outside Ramadan, 0 during it). */
int32_t gw_zone_utc_offset(int64_t t);

/* The local day of instant t as YYYYMMDD (20261207); 0 outside 1970..9999. */
int32_t gw_zone_local_day(int64_t t);

/* Instant t broken down in local time. Returns 0, or -ERANGE outside 1970..9999. */
int gw_zone_localtime(int64_t t, struct cat_tm *out);

/* Local day ymd at `sec` seconds after its 00:00 wall clock (0..86399) -> instant, with the
 * calendar's policy (catalog.h, cat_tz_local_to_utc): `pick` chooses in a repeated hour; a time
 * the clocks skip is the jump. Returns 0 or -EINVAL (not a day of 1970..9999, sec out of range). */
int gw_zone_to_utc(int32_t ymd, int32_t sec, enum cat_tz_pick pick, int64_t *out);

/* The first instant of local day ymd (its 00:00, or the jump when the clocks skip midnight);
 * -1 when ymd is not a day of 1970..9999. */
int64_t gw_zone_day_start(int32_t ymd);

#endif
