/* trace_fixture.h: the saved tracefs formats of tests/fixtures/tracefs/<kernel>/events as the
 * reader's tep (trace_reader.h), and byte-exact records built under them: for the unit tests and
 * the benchmarks that feed records through the same parsers as the plugins. */
#pragma once

#include <errno.h>
#include <event-parse.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_reader.h"

/* A whole file as text; NULL with errno set. */
static inline char *trace_fixture_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "re");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = calloc(1, (size_t) n + 1)) && fread(buf, 1, (size_t) n, f) == (size_t) n)
        *len = (size_t) n;
    else {
        free(buf);
        buf = NULL;
        errno = EIO;
    }
    fclose(f);
    return buf;
}

/* The tep of dir's header_page and the formats of events[0..n), each event into ret[i]. NULL
 * with errno set (and *failed naming the file) when one is missing or does not parse. */
static inline struct tep_handle *trace_fixture_load(const char *dir,
                                                    const struct trace_event_ref *events, size_t n,
                                                    struct tep_event **ret, const char **failed)
{
    static char path[1024];
    struct tep_handle *tep;
    size_t len;
    char *text;

    snprintf(path, sizeof(path), "%s/header_page", dir);
    *failed = path;
    text = trace_fixture_read(path, &len);
    tep = text ? trace_formats_new(text, len) : NULL;
    free(text);
    if (!tep)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s/%s/format", dir, events[i].system, events[i].name);
        text = trace_fixture_read(path, &len);
        int id = text ? trace_formats_add(tep, events[i].system, text, len) : -EIO;
        free(text);
        ret[i] = id > 0 ? tep_find_event(tep, id) : NULL;
        if (!ret[i]) {
            tep_free(tep);
            errno = id < 0 ? -id : ENOENT;
            return NULL;
        }
    }
    *failed = NULL;
    return tep;
}

/* Stores v at p as a number of size bytes (1, 2, 4 or 8) in the host's byte order, as the
 * reader's tep reads them. */
static inline void trace_fixture_put(uint8_t *p, int size, uint64_t v)
{
    switch (size) {
    case 1:
        *p = (uint8_t) v;
        break;
    case 2: {
        uint16_t x = (uint16_t) v;
        memcpy(p, &x, 2);
        break;
    }
    case 4: {
        uint32_t x = (uint32_t) v;
        memcpy(p, &x, 4);
        break;
    }
    default:
        memcpy(p, &v, 8);
    }
}
