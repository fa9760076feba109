/*
 * fuzz_config.c - libFuzzer target: the gateway's configuration file (gateway/gw_config.c,
 * gw_config_load_text + gw_config_validate), and - built with -DFUZZ_LOYALTY_TABLE as
 * fuzz_loyalty_table - the loyalty table marketing owns (gw_config_loyalty_parse over the
 * defaults: the parser of the "loyalty" object, whether it comes inline, from the file the main
 * file names, or from the staff console's stored document). Both parse from memory: no file is
 * written or read per input, except a "loyalty" file the input names, looked up as in
 * production next to the main file (deploy/, where the shipped loyalty-table.json is). A
 * "loyalty" name is a path the operator chose: the harness skips inputs naming device, /proc or
 * /sys files (reading /dev/zero forever is not a parser bug). Property beyond "no crash, no leak": a
 * refused file says which key is wrong.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw_config.h"

#ifndef LGW_SRC
#error "LGW_SRC must name the source tree"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gw_config base, cfg;
    static int ready;
    char err[512];
    int rc;

    /* in the first input, so that the defaults' code counts in its coverage as before the
     * defaults were parsed once per process */
    if (!ready) {
        gw_config_defaults(&base);
        ready = 1;
    }

    /* "/dev/", not "/dev": the shipped file's comment keys ("//system_id") contain "/sys" */
    if (size > 256 * 1024 || memmem(data, size, "/dev/", 5) || memmem(data, size, "/proc/", 6) ||
        memmem(data, size, "/sys/", 5) || memmem(data, size, "\\/", 2) ||
        memmem(data, size, "u002f", 5) || memmem(data, size, "u002F", 5))
        return 0;
    err[0] = '\0';
#ifdef FUZZ_LOYALTY_TABLE
    /* loads over the defaults and runs gw_config_validate on the result itself */
    rc = gw_config_loyalty_parse("loyalty-table.json", (const char *)data, size, &base,
                                 &cfg.loyalty, err, sizeof(err));
#else
    rc = gw_config_load_text(LGW_SRC "/deploy/loyaltygw.json", (const char *)data, size, &cfg, err,
                             sizeof(err));
    if (rc == 0) {
        err[0] = '\0';
        if (gw_config_validate(&cfg, err, sizeof(err)) != 0 && err[0] == '\0')
            abort();
    }
#endif
    if (rc != 0 && err[0] == '\0')
        abort();
    return 0;
}
