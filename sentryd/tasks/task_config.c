/* task_config.c: the .mod enums' string tables and freeing a task_config. */
#include "string_table.h"
#include "strv.h"
#include "task_config.h"

static const char *const task_type_table[_TASK_TYPE_MAX] = {
    [TASK_ONESHOT] = "oneshot",
    [TASK_PERIOD] = "period",
};
DEFINE_STRING_TABLE_LOOKUP(task_type, enum task_type, task_type_table, _TASK_TYPE_MAX)

static const char *const task_conflict_table[_TASK_CONFLICT_MAX] = {
    [CONFLICT_UP] = "up",
    [CONFLICT_DOWN] = "down",
    [CONFLICT_KILL] = "kill",
};
DEFINE_STRING_TABLE_LOOKUP(task_conflict, enum task_conflict, task_conflict_table,
                           _TASK_CONFLICT_MAX)

struct task_config *task_config_free(struct task_config *c)
{
    if (!c)
        return NULL;
    free(c->name);
    free(c->path);
    free(c->task_start);
    free(c->task_stop);
    strv_free(c->task_pre);
    strv_free(c->task_post);
    free(c->env_file);
    free(c->user);
    free(c);
    return NULL;
}
