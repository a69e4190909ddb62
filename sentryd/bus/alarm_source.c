/* alarm_source.c: see alarm_source.h. */
#include <stdio.h>

#include "alarm_source.h"
#include "task.h"
#include "task_manager.h"

bool alarm_source_may_claim(const struct task_manager *tasks, uid_t uid, const char *source)
{
    if (uid == 0)
        return true;
    struct task *t = tasks && source ? task_manager_find(tasks, source) : NULL;
    return t && task_get_config(t)->user && task_get_config(t)->uid == uid;
}

const char *alarm_source_of_uid(char *buf, size_t size, uid_t uid)
{
    snprintf(buf, size, "uid:%u", (unsigned) uid);
    return buf;
}
