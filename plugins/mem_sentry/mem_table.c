/* mem_table.c: see mem_table.h. Owns the entries and their hash table; calls nothing else. */
#include <errno.h>
#include <stdlib.h>

#include "mem_table.h"

/* A 64-bit mixer (the finaliser of SplitMix64): frame numbers are dense and hashed into the low
 * bits of a power-of-two table, so every input bit must reach them. */
static unsigned long key_hash(const struct mem_key *k)
{
    uint64_t x = k->a ^ (k->b * 0x9e3779b97f4a7c15ULL);

    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (unsigned long) x;
}

static int key_match(struct cds_lfht_node *node, const void *key)
{
    const struct mem_entry *e = caa_container_of(node, struct mem_entry, node);
    const struct mem_key *k = key;

    return e->key.a == k->a && e->key.b == k->b;
}

static unsigned long pow2_at_least(size_t n)
{
    unsigned long p = 1;

    while (p < n)
        p <<= 1;
    return p;
}

int mem_table_init(struct mem_table *t, size_t max_entries)
{
    if (max_entries < 1)
        return -EINVAL;
    *t = (struct mem_table){.max_entries = max_entries};
    CDS_INIT_LIST_HEAD(&t->counting);
    CDS_INIT_LIST_HEAD(&t->latched);
    /* one bucket per entry at most: sized once, no resize thread (64: cds_lfht's least) */
    unsigned long size = pow2_at_least(max_entries < 64 ? 64 : max_entries);
    t->ht = cds_lfht_new(size, size, size, 0, NULL);
    return t->ht ? 0 : -ENOMEM;
}

static void free_list(struct mem_table *t, struct cds_list_head *list)
{
    struct mem_entry *e, *tmp;

    cds_list_for_each_entry_safe(e, tmp, list, link) mem_table_remove(t, e);
}

void mem_table_done(struct mem_table *t)
{
    if (!t->ht)
        return;
    free_list(t, &t->counting);
    free_list(t, &t->latched);
    (void) cds_lfht_destroy(t->ht, NULL);
    *t = (struct mem_table){0};
}

struct mem_entry *mem_table_find(struct mem_table *t, const struct mem_key *key)
{
    struct cds_lfht_iter it;
    struct cds_lfht_node *node;

    rcu_read_lock();
    cds_lfht_lookup(t->ht, key_hash(key), key_match, key, &it);
    node = cds_lfht_iter_get_node(&it);
    rcu_read_unlock();
    return node ? caa_container_of(node, struct mem_entry, node) : NULL;
}

void mem_table_remove(struct mem_table *t, struct mem_entry *e)
{
    rcu_read_lock();
    (void) cds_lfht_del(t->ht, &e->node);
    rcu_read_unlock();
    cds_list_del(&e->link);
    t->n_entries--;
    free(e); /* no other reader: nothing to wait for */
}

struct mem_entry *mem_table_get(struct mem_table *t, const struct mem_key *key, bool may_add,
                                bool *oom)
{
    struct mem_entry *e = mem_table_find(t, key);

    *oom = false;
    if (e) {
        if (e->state == MEM_ENTRY_COUNTING)
            cds_list_move(&e->link, &t->counting);
        return e;
    }
    if (may_add && t->n_entries >= t->max_entries && !cds_list_empty(&t->counting)) {
        mem_table_remove(t, cds_list_entry(t->counting.prev, struct mem_entry, link));
        t->evictions++;
    }
    if (!may_add || t->n_entries >= t->max_entries) {
        t->untracked++;
        return NULL;
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        *oom = true;
        return NULL;
    }
    e->key = *key;
    cds_lfht_node_init(&e->node);
    rcu_read_lock();
    cds_lfht_add(t->ht, key_hash(key), &e->node);
    rcu_read_unlock();
    cds_list_add(&e->link, &t->counting);
    t->n_entries++;
    return e;
}

void mem_table_set_state(struct mem_table *t, struct mem_entry *e, enum mem_entry_state state)
{
    e->state = (uint8_t) state;
    cds_list_move(&e->link, state == MEM_ENTRY_COUNTING ? &t->counting : &t->latched);
}
