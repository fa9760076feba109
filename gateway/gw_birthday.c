/*
 * gw_birthday.c - the birthday rule's pure parts (gw_birthday.h).
 */
#include "gw_birthday.h"

#include <stdio.h>
#include <string.h>


static bool leap(int32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool gw_birthday_date_valid(int32_t ymd)
{
    static const int8_t len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int32_t y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;

    if (ymd <= 0 || y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    return d <= len[m - 1] + (m == 2 && leap(y) ? 1 : 0);
}

int32_t gw_birthday_in_year(int32_t birth_ymd, int32_t year)
{
    int32_t md = birth_ymd % 10000;

    if (!gw_birthday_date_valid(birth_ymd) || year < 1900 || year > 9999)
        return 0;
    if (md == 229 && !leap(year))
        md = 228;
    return year * 10000 + md;
}

bool gw_birthday_is_today(int32_t birth_ymd, int32_t today)
{
    return gw_birthday_date_valid(today) && gw_birthday_in_year(birth_ymd, today / 10000) == today;
}

int gw_birthday_sets_of_day(int32_t day, int32_t mmdd[2])
{
    if (!gw_birthday_date_valid(day))
        return 0;
    mmdd[0] = day % 10000;
    if (mmdd[0] == 228 && !leap(day / 10000)) {
        mmdd[1] = 229;
        return 2;
    }
    return 1;
}

static enum gw_bd_line bad(char *err, size_t errlen, unsigned line_no, const char *why)
{
    snprintf(err, errlen, "line %u: %s", line_no, why);
    return GW_BD_BAD;
}

/* [s, e) without surrounding spaces and tabs */
static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

enum gw_bd_line gw_birthday_csv_line(const char *line, size_t len, unsigned line_no, int32_t today,
                                     char msisdn[16], int32_t *ymd, char *err, size_t errlen)
{
    const char *s = line, *e = line + len, *sep;

    if (!line || !msisdn || !ymd || !err || errlen == 0)
        return GW_BD_BAD;
    err[0] = '\0';
    if (line_no == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        s += 3;
    if (e > s && e[-1] == '\r')
        e--;
    trim(&s, &e);
    if (s == e || *s == '#')
        return GW_BD_SKIP;
    sep = memchr(s, ',', (size_t)(e - s));
    if (!sep)
        sep = memchr(s, ';', (size_t)(e - s));
    if (!sep)
        return bad(err, errlen, line_no, "expected MSISDN,YYYY-MM-DD");
    const char *ms = s, *me = sep, *ds = sep + 1, *de = e;
    trim(&ms, &me);
    trim(&ds, &de);
    size_t mn = (size_t)(me - ms), dn = (size_t)(de - ds);
    if (line_no == 1 && mn == 6 && strncmp(ms, "msisdn", 6) == 0)
        return GW_BD_SKIP; /* the header */
    if (mn < 8 || mn > 15 || !digits(ms, mn))
        return bad(err, errlen, line_no, "the MSISDN must be 8-15 digits");
    if (dn != 10 || ds[4] != '-' || ds[7] != '-' || !digits(ds, 4) || !digits(ds + 5, 2) ||
        !digits(ds + 8, 2))
        return bad(err, errlen, line_no, "the date must be YYYY-MM-DD");
    int32_t y = (ds[0] - '0') * 1000 + (ds[1] - '0') * 100 + (ds[2] - '0') * 10 + (ds[3] - '0');
    int32_t d = y * 10000 + ((ds[5] - '0') * 10 + (ds[6] - '0')) * 100 +
                (ds[8] - '0') * 10 + (ds[9] - '0');
    if (!gw_birthday_date_valid(d))
        return bad(err, errlen, line_no, "no such date");
    if (gw_birthday_date_valid(today) && (d > today || y < today / 10000 - 120))
        return bad(err, errlen, line_no, "the date is in the future or more than 120 years ago");
    memcpy(msisdn, ms, mn);
    msisdn[mn] = '\0';
    *ymd = d;
    return GW_BD_RECORD;
}
