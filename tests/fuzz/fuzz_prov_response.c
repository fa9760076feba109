/*
 * fuzz_prov_response.c - libFuzzer target: the carrier provisioning API's answer
 * (catalog/cat_prov.c, cat_prov_http_classify) - the HTTP status and the untrusted body. The
 * first two input bytes pick the status (one of the contract's, or any 100..599), the third the
 * transport error; the rest is the body. Property: the outcome is one of the four, the
 * reference and the reason are terminated within their buffers, the reason is printable ASCII
 * without '|' (it goes to logs and the '|'-separated refund record), and only 2xx/409 answers
 * carry a reference.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cat_fulfil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long known[] = {200, 201, 409, 400, 404, 422, 500, 502, 503, 504, 429, 0};
    static const int errs[] = {0, 0, 0, 0, -ETIMEDOUT, -ECONNREFUSED, -EIO, -ENOMEM};
    struct cat_prov_result r;
    long status;
    int err;

    if (size < 3)
        return 0;
    status = data[0] & 0x80 ? 100 + ((data[0] << 8 | data[1]) & 0x7FFF) % 500
                            : known[data[0] % (sizeof(known) / sizeof(known[0]))];
    err = errs[data[2] % (sizeof(errs) / sizeof(errs[0]))];
    memset(&r, 0xA5, sizeof(r)); /* the classifier must write every field it promises */
    cat_prov_http_classify(err, status, (const char *)data + 3, size - 3, &r);
    if (r.outcome != CAT_PROV_GRANTED && r.outcome != CAT_PROV_ALREADY &&
        r.outcome != CAT_PROV_PERMANENT && r.outcome != CAT_PROV_TEMPORARY)
        abort();
    if (strnlen(r.reference, sizeof(r.reference)) == sizeof(r.reference) ||
        strnlen(r.reason, sizeof(r.reason)) == sizeof(r.reason))
        abort();
    for (const char *p = r.reason; *p; p++)
        if (*p < 0x20 || *p > 0x7E || *p == '|')
            abort();
    if (r.reference[0] && r.outcome != CAT_PROV_GRANTED && r.outcome != CAT_PROV_ALREADY)
        abort();
    return 0;
}
