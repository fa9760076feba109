/*
 * fuzz_config.c - libFuzzer target: the gateway's configuration file (gateway/gw_config.c,
 * gw_config_load + gw_config_validate), and - built with -DFUZZ_LOYALTY_TABLE as
 * fuzz_loyalty_table - the loyalty table marketing owns, named by a main file
 * ({"loyalty": "loyalty-table.json"}) as in deploy/loyaltygw.json. The loader reads files, so
 * the input is rewritten in place in a private temporary folder for each run. A "loyalty" name
 * is a path the operator chose: the harness skips inputs naming device or /proc files (reading
 * /dev/zero forever is not a parser bug). Property beyond "no crash, no leak": a refused file
 * says which key is wrong.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "gw_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int open_in(const char *dir, const char *name, char *path, size_t cap)
{
    int fd;

    snprintf(path, cap, "%s/%s", dir, name);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    return fd;
}

static char dir[] = "/tmp/fuzz_config.XXXXXX";
static char path_main[64], path_table[64];

static void cleanup(void)
{
    unlink(path_main);
    unlink(path_table);
    rmdir(dir);
}

static void put(int fd, const void *data, size_t size)
{
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd_main = -1, fd_table = -1;
    static struct gw_config cfg;
    char err[512];

    if (size > 256 * 1024 || memmem(data, size, "/dev", 4) || memmem(data, size, "/proc", 5) ||
        memmem(data, size, "/sys", 4) || memmem(data, size, "\\/", 2) ||
        memmem(data, size, "u002f", 5) || memmem(data, size, "u002F", 5))
        return 0;
    if (fd_main < 0) {
        if (!mkdtemp(dir))
            abort();
        atexit(cleanup);
        fd_main = open_in(dir, "loyaltygw.json", path_main, sizeof(path_main));
#ifdef FUZZ_LOYALTY_TABLE
        static const char text[] = "{\"loyalty\": \"loyalty-table.json\"}";

        fd_table = open_in(dir, "loyalty-table.json", path_table, sizeof(path_table));
        put(fd_main, text, sizeof(text) - 1);
#else
        (void)path_table;
#endif
    }
    put(fd_table >= 0 ? fd_table : fd_main, data, size);
    err[0] = '\0';
    if (gw_config_load(path_main, &cfg, err, sizeof(err)) == 0) {
        err[0] = '\0';
        if (gw_config_validate(&cfg, err, sizeof(err)) != 0 && err[0] == '\0')
            abort();
    } else if (err[0] == '\0') {
        abort();
    }
    return 0;
}
