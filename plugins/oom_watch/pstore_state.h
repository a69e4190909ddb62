/* pstore_state.h: the pstore records already reported, kept in a small text file so that a
 * restart of the plugin (or of the node, while the records stay) does not report them again.
 *   # oom_watch pstore state 1
 *   <name>\t<mtime seconds>\t<size>\t<hash, 16 hex digits>
 * A record is "the same" when name, size and hash match (the mtime is kept for people: pstore
 * gives it the time of the dump). The parser is pure; loading and saving are in pstore_scan.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PSTORE_STATE_MAGIC     "# oom_watch pstore state 1"
#define PSTORE_STATE_MAX       1024 /* records remembered at most; pstore holds a few */
#define PSTORE_RECORD_NAME_MAX 255

struct pstore_seen {
    char name[PSTORE_RECORD_NAME_MAX + 1];
    int64_t mtime;
    uint64_t size;
    uint64_t hash;
};

/* Zero-initialise; free with pstore_state_done(). */
struct pstore_state {
    struct pstore_seen *items;
    size_t n;
};

void pstore_state_done(struct pstore_state *s);
/* Parses the file's text. A wrong first line is -EBADMSG (not our file: nothing is trusted); a
 * damaged line is skipped and counted in *skipped (may be NULL): at worst a record is reported
 * again. More than PSTORE_STATE_MAX lines: the rest is skipped too. */
int pstore_state_parse(struct pstore_state *s, const char *text, size_t len, size_t *skipped);
/* The file's text; NULL on ENOMEM. */
char *pstore_state_format(const struct pstore_state *s);
bool pstore_state_contains(const struct pstore_state *s, const struct pstore_seen *r);
/* Adds r (a record of that name is replaced). -E2BIG when full, -EINVAL for a bad name. */
int pstore_state_add(struct pstore_state *s, const struct pstore_seen *r);
/* Whether a name may be stored: 1..255 bytes, printable, no '/' and no tab. */
bool pstore_record_name_valid(const char *name);
