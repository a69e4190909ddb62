/* offline_state.h: the pages mem_sentry decided to offline, kept in a versioned text file so
 * that a reboot (which gives every page back to the allocator) or a restart of the plugin does
 * not put a known-bad page back into use: at start every page in it is offlined again.
 *
 *   mem_sentry-offline 1
 *   <pfn: 0x + hex> <action: soft|hard|soft-then-hard> <unix time, s> <result>
 *
 * result is a page_offline_result name (the last attempt's). The file is replaced atomically
 * (temporary file, fsync, rename, fsync of the directory): a crash leaves the old or the new one.
 * Reading it trusts nothing: a damaged line is reported ("<file>: line <n>: ...") and skipped, a
 * file of another version is refused as a whole (a newer sentry's format is not guessed at).
 *
 * Bounded: at most max_entries pages (the caller passes its isolation budget), never more than
 * OFFLINE_STATE_MAX_ENTRIES (the largest budget mem_config allows). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config_msg.h"
#include "mem_vocab.h"
#include "page_offline.h"

#define OFFLINE_STATE_HEADER      "mem_sentry-offline"
#define OFFLINE_STATE_VERSION     1
#define OFFLINE_STATE_MAX_ENTRIES 1048576U
#define OFFLINE_STATE_LINE_MAX    127 /* longer lines are damaged */

struct offline_entry {
    uint64_t pfn;
    enum mem_action action; /* soft, hard or soft-then-hard */
    int64_t time_s;         /* unix time of the last attempt */
    enum page_offline_result result;
};

/* Entries in the order pages were first added (the order they are offlined again at start). */
struct offline_state {
    struct offline_entry *items;
    size_t n, allocated;
    size_t max_entries;
    uint32_t *slots; /* open addressing by pfn: index + 1 into items, 0 free; a power of two */
    size_t n_slots;  /* kept at least twice n, so a lookup is short */
};

/* max_entries 1..OFFLINE_STATE_MAX_ENTRIES, else -EINVAL. */
int offline_state_init(struct offline_state *s, size_t max_entries);
void offline_state_done(struct offline_state *s);

/* Adds pfn, or updates its action, time and result when it is there. -E2BIG when full, -EINVAL
 * for an action that is not an offline or a result out of range, -ENOMEM. */
int offline_state_set(struct offline_state *s, const struct offline_entry *e);
const struct offline_entry *offline_state_find(const struct offline_state *s, uint64_t pfn);

/* Parses the file's text into s (emptied first); path names it in messages. Damaged lines,
 * duplicates and lines beyond the bound are warnings in msgs and are skipped. A missing or foreign
 * header is -EBADMSG, another version -EPROTONOSUPPORT, each with an error in msgs; s is then
 * empty (also after -ENOMEM). A caller that gets an error should leave the file alone (not save
 * over it): it may be a newer sentry's, or need a person's look. */
int offline_state_parse(struct offline_state *s, const char *path, const char *text, size_t len,
                        struct config_msgs *msgs);
/* Reads path: a missing file is an empty state (the first start), 0. */
int offline_state_load(struct offline_state *s, const char *path, struct config_msgs *msgs);

/* The file's text (NUL-terminated, malloc'ed) or NULL on ENOMEM. */
char *offline_state_format(const struct offline_state *s);
/* Replaces path with the state atomically and durably. */
int offline_state_save(const struct offline_state *s, const char *path);

/* The pages to offline again at start: all of them, a known-bad page stays known-bad whatever its
 * last result was. Writes up to max entries to out and returns how many there are in all. */
size_t offline_state_pending(const struct offline_state *s, struct offline_entry *out, size_t max);
