/* mem_table.h: a bounded table of the things corrected errors are counted against (pages, rows,
 * DIMMs, sockets), one table per level.
 *
 * Lookup is liburcu's hash table (cds_lfht), sized once for the bound and never resized, so no
 * resize thread runs. The policy is its only reader and writer: an entry is freed as soon as it
 * is removed, no grace period is waited for. The calling thread must be an RCU reader
 * (rcu_register_thread()), as cds_lfht asks.
 *
 * Every entry is on one of two lists. "counting": below its threshold, most recently seen first;
 * when the table is full the last one (least recently seen) makes room for a new key and is
 * counted as an eviction. "latched": crossed its threshold (or offlined): never evicted, since
 * forgetting it would repeat the alarm or the offline; when every entry is latched a new key is
 * not tracked (counted). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <urcu.h>
#include <urcu/list.h>
#include <urcu/rculfhash.h>

#include "leaky_bucket.h"

/* What an entry is: a page frame number, a row, a DIMM or a socket, packed by the caller. */
struct mem_key {
    uint64_t a, b;
};

enum mem_entry_state {
    MEM_ENTRY_COUNTING, /* on the counting list, may be evicted */
    MEM_ENTRY_CROSSED,  /* threshold crossed, alarm raised; RECOVER when it drains */
    MEM_ENTRY_OFFLINED, /* page offline decided: kept for good */
    MEM_ENTRY_REFUSED,  /* page offline refused by the isolation budget: kept for good */
};

struct mem_entry {
    struct cds_lfht_node node; /* in the hash table */
    struct cds_list_head link; /* on the counting or the latched list */
    struct mem_key key;
    struct leaky_bucket bucket;
    uint32_t total; /* events since tracked (saturates) */
    uint8_t state;  /* enum mem_entry_state */
};

struct mem_table {
    struct cds_lfht *ht;
    struct cds_list_head counting; /* most recently seen first */
    struct cds_list_head latched;
    size_t n_entries, max_entries;
    uint64_t evictions; /* counting entries dropped to make room */
    uint64_t untracked; /* keys not tracked: table full of latched entries, or not allowed */
};

/* Bytes the table costs per entry at least: the entry itself and its hash node; malloc's header
 * and rounding add 16 more on glibc x86-64 (96 in all: tests/bench/bench_mem_policy prints it). */
#define MEM_TABLE_BYTES_PER_ENTRY (sizeof(struct mem_entry) + sizeof(struct cds_lfht_node))

int mem_table_init(struct mem_table *t, size_t max_entries);
void mem_table_done(struct mem_table *t);

/* The entry of key, or NULL. Does not count as seen. */
struct mem_entry *mem_table_find(struct mem_table *t, const struct mem_key *key);

/* The entry of key, marked most recently seen; a new one (zeroed bucket, COUNTING) when absent
 * and may_add, evicting the least recently seen counting entry when the table is full. NULL
 * when absent and not added (the untracked counter then counts it) or on ENOMEM (*oom set). */
struct mem_entry *mem_table_get(struct mem_table *t, const struct mem_key *key, bool may_add,
                                bool *oom);

/* Moves e to state: COUNTING puts it back on the counting list, any other on the latched one. */
void mem_table_set_state(struct mem_table *t, struct mem_entry *e, enum mem_entry_state state);

/* Frees e now. */
void mem_table_remove(struct mem_table *t, struct mem_entry *e);
