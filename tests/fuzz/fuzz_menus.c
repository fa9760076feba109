/*
 * fuzz_menus.c - libFuzzer target: a USSD menu file (ussd/ussd_menu.c, ussd_menus_load_buffer)
 * as staff edit it. An accepted file is then checked against the default screen limits
 * (ussd_menus_check), and when it fits them its root screen is opened in every language with
 * no subscriber data: a menu file the loader and the check accept must never make the engine
 * fail (-EINVAL) in front of a subscriber.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ussd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ussd_config cfg;
    static int ready;
    struct ussd_menus *m = NULL;
    char err[256];

    if (!ready) {
        ussd_config_defaults(&cfg);
        ready = 1;
    }
    err[0] = '\0';
    if (ussd_menus_load_buffer((const char *)data, size, "fuzz.json", &m, err, sizeof(err)) != 0) {
        if (m || err[0] == '\0')
            abort(); /* refused: no object, and a message that says where */
        return 0;
    }
    if (ussd_menus_check(m, &cfg, err, sizeof(err)) == 0) {
        struct ussd_env env = {.cfg = &cfg, .menus = m};
        static struct ussd_state st;
        static struct ussd_reply r;

        for (size_t i = 0; i < ussd_menus_lang_count(m); i++) {
            memset(&st, 0, sizeof(st));
            if (ussd_engine_open(&env, "*555#", 5, &st, &r) != 0)
                abort();
            if (ussd_engine_answer(&env, "1", 1, &st, &r) != 0)
                abort();
            (void)ussd_menus_label(m, ussd_menus_lang_code(m, i), "invalid");
        }
    }
    ussd_menus_free(m);
    return 0;
}
