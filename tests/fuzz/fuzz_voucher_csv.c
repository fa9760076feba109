/*
 * fuzz_voucher_csv.c - libFuzzer target: a voucher pool CSV (catalog/cat_voucher.c), as staff
 * upload it. Parsed once without and once with a "today" (expired codes refused). Property: an
 * accepted pool holds 1..CAT_VOUCHER_MAX_CODES codes, each 4..64 of [A-Za-z0-9-], terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct cat_voucher_pool *p)
{
    if (p->n_codes == 0 || p->n_codes > CAT_VOUCHER_MAX_CODES)
        abort();
    for (size_t i = 0; i < p->n_codes; i++) {
        size_t n = strnlen(p->codes[i].code, sizeof(p->codes[i].code));

        if (n < CAT_VOUCHER_CODE_MIN || n > CAT_VOUCHER_CODE_MAX ||
            strspn(p->codes[i].code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                     "0123456789-") != n)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int32_t today[] = {0, 20261125};
    char err[160];

    for (size_t t = 0; t < 2; t++) {
        struct cat_voucher_pool *p = NULL;
        int rc = cat_voucher_pool_parse((const char *)data, size, "FUZZ", today[t], &p, err,
                                        sizeof(err));
        if (rc == 0) {
            if (!p)
                abort();
            check(p);
        } else if (p) {
            abort();
        }
        cat_voucher_pool_free(p);
    }
    return 0;
}
