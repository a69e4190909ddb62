/* alarm_idem.c: see alarm_idem.h. */
#include <stdio.h>

#include <json-c/linkhash.h>

#include "alarm_idem.h"
#include "macro.h"
#include "request.h"

/* One report under way and the retries waiting for it. */
struct idem_entry {
    struct alarm_record *r; /* a reference */
    struct pending_reply **waiters;
    size_t n_waiters;
};

struct alarm_idem {
    struct lh_table *table; /* "source\x1fkey" -> struct idem_entry* */
};

static char *idem_key(const char *source, const char *idem)
{
    char *k;
    return asprintf(&k, "%s\x1f%s", source, idem) < 0 ? NULL : k;
}

static void idem_entry_free(struct lh_entry *e)
{
    struct idem_entry *x = (struct idem_entry *) lh_entry_v(e);

    free(lh_entry_k(e));
    for (size_t i = 0; i < x->n_waiters; i++)
        pending_reply_error(x->waiters[i], ECANCELED, "sentryd is stopping");
    free(x->waiters);
    alarm_record_unref(x->r);
    free(x);
}

struct alarm_idem *alarm_idem_new(void)
{
    struct alarm_idem *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->table = lh_kchar_table_new(64, idem_entry_free);
    if (!t->table) {
        free(t);
        return NULL;
    }
    return t;
}

struct alarm_idem *alarm_idem_free(struct alarm_idem *t)
{
    if (!t)
        return NULL;
    lh_table_free(t->table);
    free(t);
    return NULL;
}

static struct idem_entry *idem_lookup(struct alarm_idem *t, const char *source, const char *idem)
{
    _cleanup_free_ char *k = idem_key(source, idem);
    void *v;
    return k && lh_table_lookup_ex(t->table, k, &v) ? v : NULL;
}

struct alarm_record *alarm_idem_find(struct alarm_idem *t, const char *source, const char *idem)
{
    struct idem_entry *x = idem_lookup(t, source, idem);
    return x ? x->r : NULL;
}

int alarm_idem_add(struct alarm_idem *t, struct alarm_record *r)
{
    _cleanup_free_ char *k = idem_key(r->a.source, r->a.idem);
    struct idem_entry *x = calloc(1, sizeof(*x));

    if (!k || !x) {
        free(x);
        return -ENOMEM;
    }
    x->r = alarm_record_ref(r);
    if (lh_table_insert(t->table, k, x) != 0) {
        alarm_record_unref(x->r);
        free(x);
        return -ENOMEM;
    }
    k = NULL; /* the table's now */
    return 0;
}

int alarm_idem_wait(struct alarm_idem *t, struct alarm_record *r, struct pending_reply *ack)
{
    struct idem_entry *x = idem_lookup(t, r->a.source, r->a.idem);
    struct pending_reply **w;

    if (!x || x->r != r)
        return -ENOENT;
    w = realloc(x->waiters, (x->n_waiters + 1) * sizeof(*w));
    if (!w)
        return -ENOMEM;
    x->waiters = w;
    x->waiters[x->n_waiters++] = ack;
    return 0;
}

void alarm_idem_reply(struct pending_reply *ack, uint64_t seq)
{
    json_object *res = json_object_new_object();
    json_object_object_add(res, "seq", json_object_new_uint64(seq));
    json_object_object_add(res, "duplicate", json_object_new_boolean(true));
    pending_reply_ok(ack, res);
}

void alarm_idem_done(struct alarm_idem *t, struct alarm_record *r, int error)
{
    _cleanup_free_ char *k = idem_key(r->a.source, r->a.idem);
    struct idem_entry *x;
    void *v;

    if (!k || !lh_table_lookup_ex(t->table, k, &v))
        return;
    x = v;
    if (x->r != r)
        return;
    for (size_t i = 0; i < x->n_waiters; i++) {
        if (error < 0) {
            char msg[256];
            snprintf(msg, sizeof(msg), "the alarm was not stored: %s", strerror(-error));
            pending_reply_error(x->waiters[i], -error, msg);
        } else
            alarm_idem_reply(x->waiters[i], r->a.seq);
    }
    x->n_waiters = 0;
    lh_table_delete(t->table, k);
}
