/*
 * gw_birthday.h - the pure parts of the birthday rule (issue 10 section 1): the carrier's CSV of
 * birth dates, line by line, and the day a birthday is celebrated in a given year. Not wired yet:
 * no import, no index, no bonus (docs/campaigns.md, "Limits"). Untrusted input: fuzzed by
 * tests/fuzz/fuzz_birthday_csv.c.
 *
 * The file: UTF-8 or ASCII text, one "MSISDN,YYYY-MM-DD" per line (LF or CRLF; a UTF-8 BOM, blank
 * lines, "#" comments and a header line "msisdn,birth_date" are allowed; spaces around the fields
 * are ignored; ";" is accepted as the separator, as spreadsheets export it in French locales).
 */
#ifndef GW_BIRTHDAY_H
#define GW_BIRTHDAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gw_bd_line { GW_BD_RECORD = 0, GW_BD_SKIP, GW_BD_BAD };

/* One line (len bytes, without its LF; a trailing CR is dropped) of the file. line_no 1-based (a
 * BOM is allowed on line 1 only). today (YYYYMMDD) bounds the date: not in the future, not more
 * than 120 years back. Returns GW_BD_RECORD with msisdn (16 bytes) and *ymd filled, GW_BD_SKIP
 * (blank, comment, header), or GW_BD_BAD with a reason in err. Never reads past len. */
enum gw_bd_line gw_birthday_csv_line(const char *line, size_t len, unsigned line_no, int32_t today,
                                     char msisdn[16], int32_t *ymd, char *err, size_t errlen);

/* The local day a birth date (its month and day; the year is ignored) is celebrated in year:
 * the same month and day, except 29 February, celebrated on 28 February in a year without one
 * (the birthday stays in its month; docs/campaigns.md). YYYYMMDD, or 0 for an invalid input. */
int32_t gw_birthday_in_year(int32_t birth_ymd, int32_t year);

/* A real calendar date YYYYMMDD from 1900 on (gw_days_valid starts at 1970: people are older). */
bool gw_birthday_date_valid(int32_t ymd);

/* Whether a birth date is celebrated on local day today. */
bool gw_birthday_is_today(int32_t birth_ymd, int32_t today);

/* The month-days MMDD (e.g. 229) of the birth dates celebrated on local day `day`: its own, and
 * 229 too on 28 February of a year without 29 February. Fills mmdd[0..n-1]; returns n (1 or 2),
 * 0 for an invalid day. The birthday index is kept per month-day (lg:bd:{tag}:<MMDD>). */
int gw_birthday_sets_of_day(int32_t day, int32_t mmdd[2]);

#endif
