/*
 * fuzz_months.c - libFuzzer target: the wallet's packed activity months M (gateway/gw_months.c)
 * as the tier review reads them from Redis (stored data, but a hand-edited or corrupt field must
 * be refused, never overrun). The input is one M. Properties beyond "no crash": what decodes
 * encodes back and decodes to the same records (the varints may be written shorter: not the
 * same bytes), months strictly ascending; the window sum leaves the months untouched when M is
 * refused; gw_months_old (a field m:YYYYMM of the releases before) on the same bytes never
 * yields a negative spend.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw_months.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_month r[N], back[N];
    uint8_t buf[N * GW_MONTHS_REC_MAX];
    int64_t w[12] = {0};

    int n = gw_months_decode(data, size, r, N);
    int wr = gw_months_window(data, size, 202611, size % 2, w, 12);
    if (n == -EINVAL) {
        if (wr != -EINVAL)
            abort();
        for (int i = 0; i < 12; i++)
            if (w[i] != 0)
                abort();
    } else if (wr != 0) {
        abort();
    }
    if (n > 0) {
        for (int i = 1; i < n; i++)
            if (r[i].ym <= r[i - 1].ym)
                abort();
        int len = gw_months_encode(r, (size_t)n, buf, sizeof(buf));
        if (len < 0 || (size_t)len > size)
            abort();
        if (gw_months_decode(buf, (size_t)len, back, N) != n)
            abort();
        for (int i = 0; i < n; i++)
            if (back[i].ym != r[i].ym || back[i].earned != r[i].earned ||
                back[i].spend != r[i].spend)
                abort();
    }
    int64_t e, s;
    if (gw_months_old((const char *)data, size, &e, &s) == 0 && (s < 0 || size == 0))
        abort();
    return 0;
}
