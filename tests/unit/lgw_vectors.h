/*
 * lgw_vectors.h - test helper: loads a hex vector from tests/vectors/ (LGW_VECTORS is defined by
 * tests/CMakeLists.txt). Format: one PDU per file, hex digit pairs separated by any whitespace;
 * '#' starts a comment that runs to the end of the line.
 *
 * lgw_vector_load() returns a malloc'd buffer (the caller frees it) holding the octets plus one
 * zero byte after them, as the link keeps after every received PDU; NULL on any error.
 */
#ifndef LGW_VECTORS_H
#define LGW_VECTORS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef LGW_VECTORS
#error "LGW_VECTORS must name the tests/vectors folder"
#endif

static int lgw_hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static uint8_t *lgw_vector_load(const char *name, size_t *len)
{
    char path[512];
    FILE *f;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    int ch, hi = -1, ok = 1;

    snprintf(path, sizeof(path), "%s/%s", LGW_VECTORS, name);
    f = fopen(path, "r");
    if (f == NULL)
        return NULL;
    while ((ch = fgetc(f)) != EOF) {
        int v;

        if (ch == '#') {
            while ((ch = fgetc(f)) != EOF && ch != '\n')
                ;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r')
            continue;
        v = lgw_hexval(ch);
        if (v < 0) {
            ok = 0;
            break;
        }
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n + 1 >= cap) {
            uint8_t *nb = realloc(buf, cap ? cap * 2 : 256);

            if (nb == NULL) {
                ok = 0;
                break;
            }
            buf = nb;
            cap = cap ? cap * 2 : 256;
        }
        buf[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    fclose(f);
    if (!ok || hi >= 0 || n == 0) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

#endif
