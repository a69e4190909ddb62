/* flush_list.c: see flush_list.h. */
#include <errno.h>

#include "flush_list.h"

static int on_post(sd_event_source *src, void *userdata)
{
    flush_list_run(userdata);
    return 0;
}

int flush_list_init(struct flush_list *l, sd_event *event)
{
    *l = (struct flush_list){0};
    return sd_event_add_post(event, &l->post, on_post, l);
}

void flush_list_done(struct flush_list *l)
{
    while (l->head)
        flush_list_remove(l, l->head);
    l->post = sd_event_source_disable_unref(l->post);
}

void flush_list_add(struct flush_list *l, struct flush_entry *e)
{
    if (e->queued)
        return;
    e->queued = true;
    e->prev = NULL;
    e->next = l->head;
    if (l->head)
        l->head->prev = e;
    l->head = e;
}

void flush_list_remove(struct flush_list *l, struct flush_entry *e)
{
    if (!e->queued)
        return;
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    e->prev = e->next = NULL;
    e->queued = false;
}

void flush_list_run(struct flush_list *l)
{
    while (l->head) {
        struct flush_entry *e = l->head;
        flush_list_remove(l, e);
        e->flush(e); /* may free the connection e lives in */
    }
}
