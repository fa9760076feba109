/*
 * fuzz_catalog.c - libFuzzer target: the gift catalogue JSON (catalog/cat_catalog.c) with the
 * shipped loyalty table's tiers, as the staff console validates it before storing it. Property:
 * an accepted catalogue can be walked and every item found by its own id.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const tiers[] = {"standard", "silver", "gold"};
    static const struct cat_load_opts opts = {.tiers = tiers, .n_tiers = 3};
    struct cat_catalog *c = NULL;
    char err[256];

    if (cat_catalog_parse((const char *)data, size, &opts, &c, err, sizeof(err)) != 0) {
        if (c)
            abort();
        return 0;
    }
    (void)cat_catalog_version(c);
    for (size_t i = 0; i < cat_catalog_count(c); i++) {
        const struct cat_item *it = cat_catalog_item_at(c, i);

        if (!it || cat_catalog_find(c, it->id) != it)
            abort();
    }
    if (!cat_catalog_same_items(c, c))
        abort();
    cat_catalog_unref(c);
    return 0;
}
